//! The course's database as its last revision left it: adopted with every row, served as
//! before (its users, posts, votes and tokens), and left alone by a second start.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use migration::Command;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{Pair, SECRET, assert_detail, json_of, now, serve, spawn_app_on, token_with};

use super::{
    ALL_INDEXES, COURSE_ENV, COURSE_TOKEN, COURSE_USERS, FIXTURE, OUR_MIGRATIONS,
    assert_all_applied, count, course_snapshot, listed, login_as, our_indexes, recorded_migrations,
    strings,
};

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_course_database_is_adopted_with_its_users_posts_and_votes_all_there() {
    let app = spawn_app_on(&[], FIXTURE).await;

    // Every old user logs in with the old password; the course stored emails as typed, and
    // they match in any case.
    for (id, email, password) in COURSE_USERS {
        login_as(&app, *id, email, password).await;
        let res = app.login(email, "not the password").await;
        assert_detail(res, 403, "Invalid Credentials").await;
    }
    // Each login rehashed its user's cost-12 hash at the configured cost (4 in tests), and
    // the password is still the one that logs in.
    let costs = strings(
        &app.db,
        "SELECT substr(password, 1, 7) AS v FROM users ORDER BY id",
    )
    .await;
    assert_eq!(costs, ["$2b$04$"; 4], "rehashed at BCRYPT_COST");
    let alice = login_as(&app, 2, "alice.smith@example.com", "alice-in-2021").await;
    let bob = login_as(&app, 3, "BOB@example.com", "b0b's password").await;
    let me = json_of(app.me(&alice).await).await;
    assert_eq!(
        me,
        json!({"id": 2, "email": "Alice.Smith@Example.com",
               "created_at": "2021-08-30T09:20:03.100001+00:00"})
    );

    // Posts and their vote counts; drafts only for their owners.
    assert_eq!(listed(&app, &bob).await, [(4, 1), (2, 0), (1, 3)]);
    assert_eq!(listed(&app, &alice).await, [(4, 1), (3, 1), (2, 0), (1, 3)]);
    let post = json_of(app.get_post(&bob, 1).await).await;
    assert_eq!(post["votes"], 3);
    assert_eq!(post["Post"]["title"], "first post");
    assert_eq!(post["Post"]["content"], "some interesting stuff");
    assert_eq!(post["Post"]["published"], true);
    // API.md: always with microseconds, even when they are zero.
    assert_eq!(
        post["Post"]["created_at"],
        "2021-08-30T09:30:00.000000+00:00"
    );
    assert_eq!(post["Post"]["owner"]["email"], "sanjeev@gmail.com");
    let draft = json_of(app.get_post(&alice, 3).await).await;
    assert_eq!(
        (&draft["Post"]["title"], &draft["votes"]),
        (&json!("alice's draft"), &json!(1))
    );
    let res = app.get_post(&bob, 3).await;
    assert_detail(res, 404, "post with id: 3 was not found").await;

    // Our migrations are recorded, the missing indexes were added, the rest is untouched.
    assert_all_applied(&app.db).await;
    assert_eq!(our_indexes(&app.db).await, ALL_INDEXES);
    let expected_snapshot = {
        let pristine = spawn_app_on(&[("AUTO_MIGRATE", "false")], FIXTURE).await;
        course_snapshot(&pristine.db).await
    };
    assert_eq!(course_snapshot(&app.db).await, expected_snapshot);
    assert_eq!(
        [
            count(&app.db, "users").await,
            count(&app.db, "posts").await,
            count(&app.db, "votes").await
        ],
        [4, 5, 5]
    );
    assert!(expected_snapshot.contains(&"c47ecbf163d4".to_owned()));
    assert!(expected_snapshot.iter().any(|r| r.ends_with("+1 555 0100")));
    assert!(expected_snapshot.contains(&"post_users_fk".to_owned()));
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn registering_posting_and_voting_work_on_an_adopted_database() {
    let app = spawn_app_on(&[], FIXTURE).await;
    let alice = login_as(&app, 2, "Alice.Smith@Example.com", "alice-in-2021").await;

    // The users table has the course's extra phone_number column: inserts leave it NULL, and
    // ids continue after the course's.
    let dave = app.user("dave").await;
    assert_eq!(dave.id, 6, "the course's sequence goes on");
    let phone = strings(
        &app.db,
        "SELECT coalesce(phone_number, 'NULL') AS v FROM users WHERE id = 6",
    )
    .await;
    assert_eq!(phone, ["NULL"]);
    for taken in ["ALICE.SMITH@example.com", "sanjeev@gmail.com"] {
        let res = app.register(taken, "a new password").await;
        assert_detail(res, 409, "email already registered").await;
    }

    let post = app.post(&dave, "dave was here", true).await;
    assert_eq!(post["id"], 7);
    assert_eq!(post["owner"]["id"], 6);

    // Votes, through the course's constraints (votes_pkey, votes_post_id_fkey, ...).
    assert_eq!(app.vote(&dave, 1, 1).await.status(), StatusCode::CREATED);
    let res = app.vote(&dave, 1, 1).await;
    assert_detail(res, 409, "user 6 has already voted on post 1").await;
    let res = app.vote(&dave, 999, 1).await;
    assert_detail(res, 404, "post with id: 999 was not found").await;
    let res = app.vote(&dave, 3, 1).await;
    assert_detail(res, 404, "post with id: 3 was not found").await;
    let res = app.vote(&dave, 2, 0).await;
    assert_detail(res, 404, "vote does not exist").await;
    assert_eq!(app.vote(&alice, 7, 1).await.status(), StatusCode::CREATED);
    let got = json_of(app.get_post(&dave, 1).await).await;
    assert_eq!(got["votes"], 4);
    let got = json_of(app.get_post(&alice, 7).await).await;
    assert_eq!(got["votes"], 1);

    // Deleting a course post takes its votes along (the course's ON DELETE CASCADE).
    let res = app.delete_post(&alice, 4).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        strings(
            &app.db,
            "SELECT count(*)::text AS v FROM votes WHERE post_id = 4"
        )
        .await,
        ["0"]
    );
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_second_start_on_an_adopted_database_changes_nothing() {
    let app = spawn_app_on(&[], FIXTURE).await;
    let recorded = recorded_migrations(&app.db).await;
    assert_eq!(recorded.len(), OUR_MIGRATIONS.len());
    let snapshot = course_snapshot(&app.db).await;
    let indexes = our_indexes(&app.db).await;

    // Another server on the same database, as after a restart (or a second replica).
    let second = serve(&app.database_url, &[]).await;
    let res = app
        .client
        .post(format!("{}/login", second.address))
        .form(&[
            ("username", "bob@example.com"),
            ("password", "b0b's password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the second server serves");
    second.stop().await;
    migration::run(&app.db, Command::Up(None)).await.unwrap();

    assert_eq!(recorded_migrations(&app.db).await, recorded);
    assert_eq!(course_snapshot(&app.db).await, snapshot);
    assert_eq!(our_indexes(&app.db).await, indexes);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn tokens_from_the_courses_server_work_with_its_secret_key() {
    let app = spawn_app_on(COURSE_ENV, FIXTURE).await;
    let res = app.get("/users/me", Some(COURSE_TOKEN)).await;
    assert_eq!(res.status(), StatusCode::OK, "python-jose's token");
    assert_eq!(json_of(res).await["email"], "Alice.Smith@Example.com");
    let res = app.get("/posts/", Some(COURSE_TOKEN)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // One signed now, as create_access_token does: {"user_id": id, "exp": now + 30 min}.
    let key = COURSE_ENV[0].1;
    let fresh = token_with(
        &json!({"user_id": 1, "exp": now() + 30 * 60}),
        Algorithm::HS256,
        key,
    );
    let me = json_of(app.get("/users/me", Some(&fresh)).await).await;
    assert_eq!(me["email"], "sanjeev@gmail.com");

    // And the other way round: the course's server, reading {"user_id"} with the same key,
    // accepts ours, so both can serve one database while clients move over.
    let ours = login_as(&app, 3, "bob@example.com", "b0b's password").await;
    let claims = jsonwebtoken::decode::<Value>(
        &ours.token,
        &DecodingKey::from_secret(key.as_bytes()),
        &Validation::new(Algorithm::HS256),
    )
    .expect("our token verifies with the course's key")
    .claims;
    assert_eq!(claims["user_id"], 3);

    // A token signed with another key still is not.
    let forged = token_with(
        &json!({"user_id": 1, "exp": now() + 60}),
        Algorithm::HS256,
        SECRET,
    );
    let res = app.get("/users/me", Some(&forged)).await;
    assert_detail(res, 401, "Could not validate credentials").await;
}

/// The sessions and accounts work on a course database too: its users get token pairs,
/// refresh, log out, and may delete their account, whose posts and votes go with it through
/// the course's own foreign keys (which adoption checks cascade); ids go on after it.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn sessions_and_account_deletion_work_on_an_adopted_database() {
    let app = spawn_app_on(&[], FIXTURE).await;
    let (email, password) = ("Alice.Smith@Example.com", "alice-in-2021");
    let first = Pair::of(app.login(email, password).await).await;
    let second = Pair::of(app.refresh(&first.refresh).await).await;
    let res = app
        .request(Method::POST, "/logout", Some(&second.access))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.refresh(&second.refresh).await.status(), 400);
    assert_eq!(
        app.get("/users/me", Some(&second.access)).await.status(),
        401
    );

    let alice = login_as(&app, 2, email, password).await;
    let res = app
        .send_json(
            Method::DELETE,
            "/users/me",
            Some(&alice.token),
            &json!({"password": password}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let left = "SELECT (SELECT count(*) FROM posts WHERE owner_id = 2) \
                + (SELECT count(*) FROM votes WHERE user_id = 2 OR post_id IN (3, 4)) \
                + (SELECT count(*) FROM users WHERE id = 2) AS v";
    assert_eq!(
        strings(&app.db, &format!("SELECT ({left})::text AS v")).await,
        ["0"]
    );
    assert_eq!(app.get("/users/me", Some(&alice.token)).await.status(), 401);
    // The course's other rows are all there: sanjeev's post 1 keeps bob's and carol's votes.
    let sanjeev = login_as(&app, 1, "sanjeev@gmail.com", "password123").await;
    assert_eq!(json_of(app.get_post(&sanjeev, 1).await).await["votes"], 2);
    let dave = app.user("dave").await;
    assert_eq!(
        dave.id, 6,
        "ids go on after the course's, never reusing alice's"
    );
}
