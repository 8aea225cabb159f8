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

/// An access token: send it back as `Authorization: Bearer <access_token>`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...", "token_type": "bearer"}))]
pub struct Token {
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
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
