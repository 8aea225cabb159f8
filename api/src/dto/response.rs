//! Response bodies, built field by field from the service's types, so the password hash has
//! no way out. Field order is the contract's.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use service::posts::{Post, PostWithVotes};
use service::users::User;
use utoipa::ToSchema;

use crate::error::FieldError;

/// RFC 3339 in UTC with microseconds, the same on both databases:
/// `2026-11-24T22:58:22.589889+00:00`.
fn utc_micros<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    // chrono's RFC 3339 writer, not a `format` string: that one is parsed again at each call,
    // on the hottest path there is (README, Benchmark).
    s.serialize_str(
        &t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Micros, false),
    )
}

/// A user, as anyone may see them: never the password.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 17, "email": "ann@example.com", "created_at": "2026-11-24T22:58:22.589889+00:00"}))]
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

/// A token pair: send `access_token` back as `Authorization: Bearer <access_token>`;
/// `refresh_token` gets the next pair from `POST /login` with `grant_type=refresh_token`, once.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxLCJleHAiOjE3OTY2MzQ0MDAsImlhdCI6MTc5NjYzMDgwMCwic2lkIjoxfQ.kAv7tE2bWEP2xq0uS1m-5vAcjO2nTUOXp3JzRwzK5Zk",
    "token_type": "bearer",
    "refresh_token": "q3J9VbqkQk1yJ0R1mZz5aC8fNwq0nq7b2VtZ3Xh6P4E",
    "expires_in": 3600
}))]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Opaque and single-use: exchanging it retires it, and presenting it again ends the
    /// session.
    pub refresh_token: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
}

impl From<service::sessions::TokenPair> for Token {
    fn from(pair: service::sessions::TokenPair) -> Self {
        Token {
            access_token: pair.access_token.0,
            token_type: "bearer",
            refresh_token: pair.refresh_token,
            expires_in: pair.expires_in,
        }
    }
}

/// One of the caller's sessions (a login, and the refreshes since): never a token.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12,
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "created_at": "2026-12-07T09:12:44.518306+00:00",
    "last_used_at": "2026-12-07T10:02:13.204577+00:00",
    "expires_at": "2027-01-06T10:02:13.204577+00:00",
    "current": true
}))]
pub struct SessionOut {
    /// The `sid` claim of its access tokens.
    pub id: i32,
    /// The `User-Agent` of the login.
    pub user_agent: Option<String>,
    #[serde(serialize_with = "utc_micros")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    /// The login, or the last refresh.
    #[serde(serialize_with = "utc_micros")]
    #[schema(value_type = String, format = DateTime)]
    pub last_used_at: DateTime<FixedOffset>,
    /// When its refresh token stops being accepted unless refreshed before.
    #[serde(serialize_with = "utc_micros")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<FixedOffset>,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

impl SessionOut {
    pub fn new(s: service::sessions::SessionInfo, current: Option<i32>) -> Self {
        SessionOut {
            id: s.id,
            user_agent: s.user_agent,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            current: current == Some(s.id),
        }
    }
}

/// A post with its owner.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "title": "Hello from Lisbon",
    "content": "First post: the tram up to the castle is worth the wait.",
    "published": true,
    "id": 42,
    "created_at": "2026-12-01T09:30:12.481516+00:00",
    "owner_id": 17,
    "owner": {"id": 17, "email": "ann@example.com", "created_at": "2026-11-24T22:58:22.589889+00:00"}
}))]
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
#[schema(example = json!({
    "Post": {
        "title": "Hello from Lisbon",
        "content": "First post: the tram up to the castle is worth the wait.",
        "published": true,
        "id": 42,
        "created_at": "2026-12-01T09:30:12.481516+00:00",
        "owner_id": 17,
        "owner": {"id": 17, "email": "ann@example.com", "created_at": "2026-11-24T22:58:22.589889+00:00"}
    },
    "votes": 3
}))]
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

/// Every error but validation: `{"detail": "..."}`. Each response of the document has an
/// example of its own, with a `detail` its status can have (docs/API.md lists them all).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

/// A refused refresh grant (400): `detail` and `error` are OAuth2's code (RFC 6749 §5.2),
/// `error_description` says it in words.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "detail": "invalid_grant",
    "error": "invalid_grant",
    "error_description": "the refresh token is invalid, expired, used already or of an ended session"
}))]
pub struct OAuthErrorBody {
    pub detail: &'static str,
    pub error: &'static str,
    pub error_description: &'static str,
}

/// Validation errors (422): one entry per problem.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": [
    {"type": "missing", "loc": ["body", "title"], "msg": "Field required"}
]}))]
pub struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}
