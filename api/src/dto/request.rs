//! Request bodies. Each is one type: what the request is parsed into (validated domain
//! values, through [`FromJson`] or [`FromForm`]) and what its OpenAPI schema is derived from.
//!
//! The limits are the domain's (`service::domain`); utoipa's attributes take only literals,
//! so `schema_limits` (the tests) proves each literal equals its domain constant.

use std::marker::PhantomData;

use service::domain::{Email, Invalid, Password, PostContent, PostTitle, VoteDir};
use service::posts::{NewPost, PostChanges};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::extract::{Fields, FormFields, FromForm, FromJson};

// Patterns state what lengths cannot. JSON Schema's regex dialect is ECMA-262; the `\uXXXX`
// escapes read the same there and in Python's `re`, which most tools use.
// - `^[^\u0000]*$` on every string field: no NUL (PostgreSQL cannot store one).
// - Titles: that, plus one character that is not whitespace. Whitespace is listed one by one:
//   Unicode's White_Space property, which is what `char::is_whitespace` (and `str::trim`)
//   means; `\s` means something different in each regex engine.
// utoipa takes only literals there, hence the repetition.

/// Registration: `POST /users/`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "password": "correct horse"}))]
pub struct UserCreate {
    /// Trimmed and lower-cased before it is stored; unique case-insensitively.
    #[schema(value_type = String, format = "email", max_length = 254, pattern = "^[^\\u0000]*$")]
    pub email: Email,
    /// 8 to 72 bytes of UTF-8 (bcrypt's limit). `minLength` and `maxLength` count characters,
    /// so they are exact for ASCII only: `é` is one character but two bytes.
    #[schema(
        value_type = String,
        min_length = 8,
        max_length = 72,
        format = Password,
        pattern = "^[^\\u0000]*$"
    )]
    pub password: Password,
}

impl FromJson for UserCreate {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let email = f
            .str("email")
            .and_then(|e| f.check("email", Email::parse(&e)));
        let password = f
            .str("password")
            .and_then(|p| f.check("password", Password::parse(p)));
        Some(UserCreate {
            email: email?,
            password: password?,
        })
    }
}

/// A password change: `PUT /users/me/password`.
#[derive(ToSchema)]
#[schema(example = json!({"current_password": "correct horse", "new_password": "battery staple"}))]
pub struct PasswordChange {
    /// The password now.
    #[schema(value_type = String, min_length = 1, format = Password, pattern = "^[^\\u0000]*$")]
    pub current_password: String,
    /// 8 to 72 bytes of UTF-8, as at registration.
    #[schema(
        value_type = String,
        min_length = 8,
        max_length = 72,
        format = Password,
        pattern = "^[^\\u0000]*$"
    )]
    pub new_password: Password,
}

impl FromJson for PasswordChange {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let current = f.str("current_password");
        let new = f
            .str("new_password")
            .and_then(|p| f.check("new_password", Password::parse(p)));
        Some(PasswordChange {
            current_password: current?,
            new_password: new?,
        })
    }
}

/// The password, confirming `DELETE /users/me`.
#[derive(ToSchema)]
#[schema(example = json!({"password": "correct horse"}))]
pub struct AccountDeletion {
    #[schema(value_type = String, min_length = 1, format = Password, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

impl FromJson for AccountDeletion {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        Some(AccountDeletion {
            password: f.str("password")?,
        })
    }
}

/// The OAuth2 token request of `POST /login`: the password grant (the course's login, and the
/// default when `grant_type` is absent) or the refresh grant (RFC 6749 §6).
#[derive(ToSchema)]
pub struct LoginForm {
    // Swagger UI's "Try it out" fills a form body field by field from each field's own schema
    // (an example on the whole form is not used), so the examples are per field; without them
    // it generates text from the patterns. They are the registration example's, so that the
    // two requests work one after the other as they come.
    /// The email address, in any case. Required for the password grant.
    #[schema(
        value_type = Option<String>,
        nullable = false,
        min_length = 1,
        pattern = "^[^\\u0000]*$",
        example = "ann@example.com"
    )]
    pub username: PhantomData<String>,
    /// Required for the password grant.
    #[schema(
        value_type = Option<String>,
        nullable = false,
        min_length = 1,
        format = Password,
        pattern = "^[^\\u0000]*$",
        example = "correct horse"
    )]
    pub password: PhantomData<String>,
    // `grant_type`'s description is `GrantType`'s: one here would make utoipa wrap the inline
    // enum in an `allOf` with an object.
    #[schema(value_type = Option<GrantType>, inline, nullable = false)]
    pub grant_type: PhantomData<GrantType>,
    // Empty examples: "Try it out" leaves these fields empty and sends none of them, where it
    // would otherwise send the generated "string" for each.
    /// Required for the refresh grant: the `refresh_token` of the last token response.
    #[schema(value_type = Option<String>, nullable = false, pattern = "^[^\\u0000]*$", example = "")]
    pub refresh_token: PhantomData<String>,
    /// Ignored.
    #[schema(value_type = Option<String>, example = "")]
    pub scope: PhantomData<String>,
    /// Ignored.
    #[schema(value_type = Option<String>, example = "")]
    pub client_id: PhantomData<String>,
    /// Ignored.
    #[schema(value_type = Option<String>, format = Password, example = "")]
    pub client_secret: PhantomData<String>,
    /// What the form asks for, once parsed.
    #[schema(ignore)]
    pub grant: Grant,
}

/// A parsed token request.
pub enum Grant {
    /// Email (any case) and password.
    Password { username: String, password: String },
    /// A refresh token to exchange.
    Refresh(String),
}

/// `password` (the default: email and password) or `refresh_token` (a refresh token for a new
/// pair).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    Password,
    RefreshToken,
}

impl GrantType {
    /// The flows this server speaks; `None` for any other.
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "password" => Some(Self::Password),
            "refresh_token" => Some(Self::RefreshToken),
            _ => None,
        }
    }
}

impl FromForm for LoginForm {
    fn from_form(f: &mut FormFields) -> Option<Self> {
        let grant_type = f.get("grant_type").map(|g| GrantType::parse(g).ok_or(()));
        // What the schema says of a field holds whichever grant reads it: one the grant
        // ignores is still no place for a NUL.
        let ignored: &[&str] = match grant_type {
            Some(Ok(GrantType::RefreshToken)) => &["username", "password"],
            _ => &["refresh_token"],
        };
        for name in ignored {
            if f.get(name).is_some_and(|v| v.contains('\0')) {
                f.refuse(FieldError::invalid(
                    vec!["body".into(), (*name).into()],
                    Invalid::Nul,
                ));
            }
        }
        let grant = match grant_type {
            Some(Ok(GrantType::RefreshToken)) => f.text("refresh_token").map(Grant::Refresh),
            // An unknown grant is refused, and the form is checked as a password one besides,
            // so that one answer names every problem.
            other => {
                if other.is_some_and(|g| g.is_err()) {
                    f.refuse(
                        FieldError::new(
                            vec!["body".into(), "grant_type".into()],
                            "string_pattern_mismatch",
                            "String should match pattern '^(password|refresh_token)$'",
                        )
                        .with_ctx("pattern", "^(password|refresh_token)$"),
                    );
                }
                let username = f.text("username");
                let password = f.text("password");
                Some(Grant::Password {
                    username: username?,
                    password: password?,
                })
            }
        };
        Some(LoginForm {
            username: PhantomData,
            password: PhantomData,
            grant_type: PhantomData,
            refresh_token: PhantomData,
            scope: PhantomData,
            client_id: PhantomData,
            client_secret: PhantomData,
            grant: grant?,
        })
    }
}

/// A new post, or the full replacement of one (`PUT`).
#[derive(ToSchema)]
#[schema(example = json!({"title": "Hello", "content": "First post", "published": true}))]
pub struct PostCreate {
    /// 1 to 300 characters, not only whitespace.
    #[schema(
        value_type = String,
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: PostTitle,
    /// 1 to 20,000 characters.
    #[schema(value_type = String, min_length = 1, max_length = 20000, pattern = "^[^\\u0000]*$")]
    pub content: PostContent,
    /// Drafts (`false`) are visible to their owner only.
    #[schema(value_type = Option<bool>, default = true, nullable = false)]
    pub published: bool,
}

impl FromJson for PostCreate {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let title = f
            .str("title")
            .and_then(|t| f.check("title", PostTitle::parse(t)));
        let content = f
            .str("content")
            .and_then(|c| f.check("content", PostContent::parse(c)));
        let published = f.opt_bool("published");
        Some(PostCreate {
            title: title?,
            content: content?,
            // Left out means published, as in the course (also for PUT).
            published: published?.unwrap_or(true),
        })
    }
}

impl From<PostCreate> for NewPost {
    fn from(p: PostCreate) -> Self {
        NewPost {
            title: p.title,
            content: p.content,
            published: p.published,
        }
    }
}

/// `PUT` replaces every field.
impl From<PostCreate> for PostChanges {
    fn from(p: PostCreate) -> Self {
        PostChanges {
            title: Some(p.title),
            content: Some(p.content),
            published: Some(p.published),
        }
    }
}

/// A partial update (`PATCH`): any subset of the fields; `{}` changes nothing.
#[derive(ToSchema)]
#[schema(example = json!({"published": false}))]
pub struct PostPatch {
    /// 1 to 300 characters, not only whitespace.
    #[schema(
        value_type = Option<String>,
        min_length = 1,
        max_length = 300,
        nullable = false,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<PostTitle>,
    /// 1 to 20,000 characters.
    #[schema(
        value_type = Option<String>,
        min_length = 1,
        max_length = 20000,
        nullable = false,
        pattern = "^[^\\u0000]*$"
    )]
    pub content: Option<PostContent>,
    #[schema(nullable = false)]
    pub published: Option<bool>,
}

impl FromJson for PostPatch {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let title = f
            .opt_str("title")
            .and_then(|t| f.check_opt("title", t, PostTitle::parse));
        let content = f
            .opt_str("content")
            .and_then(|c| f.check_opt("content", c, PostContent::parse));
        let published = f.opt_bool("published");
        Some(PostPatch {
            title: title?,
            content: content?,
            published: published?,
        })
    }
}

impl From<PostPatch> for PostChanges {
    fn from(p: PostPatch) -> Self {
        PostChanges {
            title: p.title,
            content: p.content,
            published: p.published,
        }
    }
}

/// A vote: `dir` 1 adds the caller's vote on `post_id`, 0 removes it.
#[derive(ToSchema)]
#[schema(example = json!({"post_id": 1, "dir": 1}))]
pub struct VoteIn {
    pub post_id: i64,
    #[schema(value_type = u8, minimum = 0, maximum = 1)]
    pub dir: VoteDir,
}

impl FromJson for VoteIn {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let post_id = f.int("post_id");
        let dir = f.int("dir").and_then(|d| f.check("dir", VoteDir::parse(d)));
        Some(VoteIn {
            post_id: post_id?,
            dir: dir?,
        })
    }
}
