//! [`TestApp`]'s requests: the generic ones (any method, path and token) and one helper per
//! endpoint of the contract, each returning the server's answer for the test to judge.
//! Only [`TestApp::user`] and [`TestApp::post`] assert: they arrange, and a failure there is
//! not what a test is about.

use std::fmt::Display;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::app::{PASSWORD, TestApp, TestUser};
use crate::json::json_of;

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request to `path`, with a bearer token if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        send(self.request(Method::GET, path, token)).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        send(self.request(method, path, token).json(body)).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    /// `POST /users/`.
    pub async fn register(&self, email: &str, password: &str) -> Response {
        let body = json!({"email": email, "password": password});
        self.post_json("/users/", None, &body).await
    }

    /// `POST /login` with the urlencoded form of `username` and `password`.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.login_form(&[("username", username), ("password", password)])
            .await
    }

    /// `POST /login` with these urlencoded fields, in this order.
    pub async fn login_form(&self, fields: &[(&str, &str)]) -> Response {
        send(self.client.post(self.url("/login")).form(fields)).await
    }

    /// `POST /login` with the refresh grant.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.login_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Logs `user` in once more (a new session): its token pair.
    pub async fn session(&self, user: &TestUser) -> Pair {
        let res = self.login(&user.email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login {}", user.email);
        Pair::of(res).await
    }

    /// `GET /users/me`.
    pub async fn me(&self, user: &TestUser) -> Response {
        self.get("/users/me", Some(&user.token)).await
    }

    /// `GET /users/{id}`.
    pub async fn get_user(&self, user: &TestUser, id: impl Display) -> Response {
        self.get(&format!("/users/{id}"), Some(&user.token)).await
    }

    /// `POST /posts/` with `body`.
    pub async fn create_post(&self, user: &TestUser, body: &Value) -> Response {
        self.post_json("/posts/", Some(&user.token), body).await
    }

    /// `GET /posts/` with these query parameters.
    pub async fn list_posts(&self, user: &TestUser, query: &[(&str, &str)]) -> Response {
        send(
            self.request(Method::GET, "/posts/", Some(&user.token))
                .query(query),
        )
        .await
    }

    /// `GET /posts/latest`.
    pub async fn latest_post(&self, user: &TestUser) -> Response {
        self.get("/posts/latest", Some(&user.token)).await
    }

    /// `GET /posts/{id}`.
    pub async fn get_post(&self, user: &TestUser, id: impl Display) -> Response {
        self.get(&format!("/posts/{id}"), Some(&user.token)).await
    }

    /// `PUT /posts/{id}` with `body`.
    pub async fn replace_post(&self, user: &TestUser, id: impl Display, body: &Value) -> Response {
        let path = format!("/posts/{id}");
        self.send_json(Method::PUT, &path, Some(&user.token), body)
            .await
    }

    /// `PATCH /posts/{id}` with `body`.
    pub async fn patch_post(&self, user: &TestUser, id: impl Display, body: &Value) -> Response {
        let path = format!("/posts/{id}");
        self.send_json(Method::PATCH, &path, Some(&user.token), body)
            .await
    }

    /// `DELETE /posts/{id}`.
    pub async fn delete_post(&self, user: &TestUser, id: impl Display) -> Response {
        let path = format!("/posts/{id}");
        send(self.request(Method::DELETE, &path, Some(&user.token))).await
    }

    /// `POST /vote/`.
    pub async fn vote(&self, user: &TestUser, post_id: i64, dir: i64) -> Response {
        let body = json!({"post_id": post_id, "dir": dir});
        self.post_json("/vote/", Some(&user.token), &body).await
    }

    /// Registers `name@example.com` with [`PASSWORD`] and logs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let res = self.register(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        let id = json_of(res).await["id"].as_i64().expect("user id");
        let res = self.login(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        let token = json_of(res).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        TestUser { id, email, token }
    }

    /// Creates a post with the content `content of <title>`; returns its JSON.
    pub async fn post(&self, user: &TestUser, title: &str, published: bool) -> Value {
        let body = json!({"title": title, "content": format!("content of {title}"), "published": published});
        let res = self.create_post(user, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "create post {title}");
        json_of(res).await
    }
}

/// A token response's two tokens.
#[derive(Debug, Clone)]
pub struct Pair {
    pub access: String,
    pub refresh: String,
}

impl Pair {
    /// The pair of a 200 token response.
    pub async fn of(res: Response) -> Self {
        assert_eq!(res.status(), StatusCode::OK, "a token response");
        let body = json_of(res).await;
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {body}"))
                .to_owned()
        };
        Pair {
            access: field("access_token"),
            refresh: field("refresh_token"),
        }
    }
}

async fn send(req: RequestBuilder) -> Response {
    req.send().await.expect("request")
}

/// What hangs on the account's address: recovery, verification, the email change.
impl TestApp {
    /// `POST /password-recovery`.
    pub async fn password_recovery(&self, email: &str) -> Response {
        self.post_json("/password-recovery", None, &json!({"email": email}))
            .await
    }

    /// `POST /reset-password`.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Response {
        let body = json!({"token": token, "new_password": new_password});
        self.post_json("/reset-password", None, &body).await
    }

    /// `POST /users/verify`.
    pub async fn verify_email(&self, token: &str) -> Response {
        self.post_json("/users/verify", None, &json!({"token": token}))
            .await
    }

    /// `POST /users/verify/resend`.
    pub async fn resend_verification(&self, email: &str) -> Response {
        self.post_json("/users/verify/resend", None, &json!({"email": email}))
            .await
    }

    /// `PATCH /users/me` with a new `email` and the `current_password`, as `token`'s user.
    pub async fn change_email(&self, token: &str, email: &str, current_password: &str) -> Response {
        let body = json!({"email": email, "current_password": current_password});
        self.send_json(Method::PATCH, "/users/me", Some(token), &body)
            .await
    }
}
