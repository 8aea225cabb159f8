//! What goes over the wire: request and response bodies, with their OpenAPI schemas.
//!
//! Entities never appear here; responses are built field by field from the service's types,
//! so the password hash has no way out. Field order is the contract's.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use service::domain::{Email, Password, PostContent, PostTitle, VoteDir};
use service::posts::{NewPost, Post, PostChanges, PostWithVotes};
use service::users::User;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::input::{Fields, FromJson};

// Patterns state what lengths cannot. JSON Schema's regex dialect is ECMA-262; the `\uXXXX`
// escapes read the same there and in Python's `re`, which most tools use.
// - `^[^\u0000]*$` on every string field: no NUL (PostgreSQL cannot store one).
// - Titles: that, plus one character that is not whitespace. Whitespace is listed one by one:
//   Unicode's White_Space property, which is what `char::is_whitespace` (and `str::trim`)
//   means; `\s` means something different in each regex engine.
// utoipa takes only literals there, hence the repetition.

/// RFC 3339 in UTC with microseconds, the same on both databases:
/// `2026-11-24T22:58:22.589889+00:00`.
fn utc_micros<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    // chrono's RFC 3339 writer, not a `format` string: that one is parsed again at each call
    // (2 % of the CPU of `GET /posts/{id}`).
    s.serialize_str(
        &t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Micros, false),
    )
}

/// Registration: `POST /users/`.
// Documents the body only: `input::FromJson` reads it straight into validated values.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(example = json!({"email": "ann@example.com", "password": "correct horse"}))]
pub struct UserCreate {
    /// Trimmed and lower-cased before it is stored; unique case-insensitively.
    #[schema(format = "email", max_length = 254, pattern = "^[^\\u0000]*$")]
    pub email: String,
    /// 8 to 72 bytes of UTF-8 (bcrypt's limit). `minLength` and `maxLength` count characters,
    /// so they are exact for ASCII only: `é` is one character but two bytes.
    #[schema(min_length = 8, max_length = 72, format = Password, pattern = "^[^\\u0000]*$")]
    pub password: String,
}

/// [`UserCreate`], validated.
pub struct NewUser {
    pub email: Email,
    pub password: Password,
}

impl FromJson for NewUser {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let email = f
            .str("email")
            .and_then(|e| f.check("email", Email::parse(&e)));
        let password = f
            .str("password")
            .and_then(|p| f.check("password", Password::parse(p)));
        Some(NewUser {
            email: email?,
            password: password?,
        })
    }
}

/// A user, as anyone may see them: never the password.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "email": "ann@example.com", "created_at": "2026-11-24T22:58:22.589889+00:00"}))]
pub struct UserOut {
    pub id: i32,
    pub email: String,
    #[serde(serialize_with = "utc_micros")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id,
            email: u.email,
            created_at: u.created_at,
        }
    }
}

/// The OAuth2 password form of `POST /login`.
// Documents the body only: `input::FromJson` reads it straight into validated values.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct LoginForm {
    /// The email address, in any case.
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    pub username: String,
    #[schema(min_length = 1, format = Password, pattern = "^[^\\u0000]*$")]
    pub password: String,
    // Described by `GrantType` (a description here would make utoipa wrap the inline enum
    // in an `allOf` with an object).
    #[schema(inline, nullable = false)]
    pub grant_type: Option<GrantType>,
    /// Ignored.
    pub scope: Option<String>,
    /// Ignored.
    pub client_id: Option<String>,
    /// Ignored.
    #[schema(format = Password)]
    pub client_secret: Option<String>,
}

/// If present, must be `password` (the OAuth2 password flow).
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum GrantType {
    Password,
}

/// An access token: send it back as `Authorization: Bearer <access_token>`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...", "token_type": "bearer"}))]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
}

/// A new post, or the full replacement of one (`PUT`).
// Documents the body only: `input::FromJson` reads it straight into validated values.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(example = json!({"title": "Hello", "content": "First post", "published": true}))]
pub struct PostCreate {
    /// 1 to 300 characters, not only whitespace.
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: String,
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^[^\\u0000]*$")]
    pub content: String,
    /// Drafts (`false`) are visible to their owner only.
    #[schema(default = true, nullable = false)]
    pub published: Option<bool>,
}

impl FromJson for NewPost {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let title = f
            .str("title")
            .and_then(|t| f.check("title", PostTitle::parse(t)));
        let content = f
            .str("content")
            .and_then(|c| f.check("content", PostContent::parse(c)));
        let published = f.opt_bool("published");
        Some(NewPost {
            title: title?,
            content: content?,
            // Left out means published, as in the course (also for PUT).
            published: published?.unwrap_or(true),
        })
    }
}

/// A partial update (`PATCH`): any subset of the fields; `{}` changes nothing.
// Documents the body only: `input::FromJson` reads it straight into validated values.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(example = json!({"published": false}))]
pub struct PostPatch {
    /// 1 to 300 characters, not only whitespace.
    #[schema(
        min_length = 1,
        max_length = 300,
        nullable = false,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    pub title: Option<String>,
    /// 1 to 20,000 characters.
    #[schema(
        min_length = 1,
        max_length = 20000,
        nullable = false,
        pattern = "^[^\\u0000]*$"
    )]
    pub content: Option<String>,
    #[schema(nullable = false)]
    pub published: Option<bool>,
}

/// [`PostPatch`], validated.
pub struct PatchIn(pub PostChanges);

impl FromJson for PatchIn {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let title = f
            .opt_str("title")
            .and_then(|t| f.check_opt("title", t, PostTitle::parse));
        let content = f
            .opt_str("content")
            .and_then(|c| f.check_opt("content", c, PostContent::parse));
        let published = f.opt_bool("published");
        Some(PatchIn(PostChanges {
            title: title?,
            content: content?,
            published: published?,
        }))
    }
}

/// A post with its owner.
#[derive(Serialize, ToSchema)]
pub struct PostOut {
    pub title: String,
    pub content: String,
    pub published: bool,
    pub id: i32,
    #[serde(serialize_with = "utc_micros")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    pub owner_id: i32,
    pub owner: UserOut,
}

impl From<Post> for PostOut {
    fn from(p: Post) -> Self {
        PostOut {
            title: p.title,
            content: p.content,
            published: p.published,
            id: p.id,
            created_at: p.created_at,
            owner_id: p.owner_id,
            owner: p.owner.into(),
        }
    }
}

/// A post and its vote count. The key is `Post` with a capital P, as the course's clients
/// expect.
#[derive(Serialize, ToSchema)]
pub struct PostWithVotesOut {
    #[serde(rename = "Post")]
    #[schema(rename = "Post")]
    pub post: PostOut,
    /// How many users voted for the post.
    #[schema(minimum = 0)]
    pub votes: i64,
}

impl From<PostWithVotes> for PostWithVotesOut {
    fn from(p: PostWithVotes) -> Self {
        PostWithVotesOut {
            post: p.post.into(),
            votes: p.votes,
        }
    }
}

/// A vote: `dir` 1 adds the caller's vote on `post_id`, 0 removes it.
// Documents the body only: `input::FromJson` reads it straight into validated values.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(example = json!({"post_id": 1, "dir": 1}))]
pub struct VoteIn {
    pub post_id: i64,
    #[schema(minimum = 0, maximum = 1)]
    pub dir: u8,
}

/// [`VoteIn`], validated.
pub struct Vote {
    pub post_id: i64,
    pub dir: VoteDir,
}

impl FromJson for Vote {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let post_id = f.int("post_id");
        let dir = f.int("dir").and_then(|d| f.check("dir", VoteDir::parse(d)));
        Some(Vote {
            post_id: post_id?,
            dir: dir?,
        })
    }
}

/// A plain message, e.g. `{"message": "successfully added vote"}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "successfully added vote"}))]
pub struct Message {
    pub message: &'static str,
}

/// Liveness and readiness.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Status {
    pub status: &'static str,
}

/// Every error but validation: `{"detail": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "post with id: 7 was not found"}))]
pub struct ErrorBody {
    pub detail: String,
}

/// Validation errors (422): one entry per problem.
#[derive(Serialize, ToSchema)]
pub struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}
