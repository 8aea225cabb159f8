//! Sessions: what a login starts and a logout ends (OAuth2 refresh tokens, RFC 6749 §6).
//!
//! A session is one row of `sessions`; its id is the `sid` claim of every access token it
//! issues, and the per-request look-up ([`crate::auth::authenticate`]) joins it, so deleting
//! the row refuses those tokens at the next request. Its refresh token is single-use: each
//! [`refresh`] hands out a new pair and retires the old token, and a retired token presented
//! again ends the whole session, as it was stolen or replayed. Tokens minted the course's way
//! belong to no session; [`end_all`] (and a logout with one) revokes them by time instead.
//!
//! None of this needs a transaction: each step is one statement, in an order that fails safe
//! (a crash between two steps leaves a session ended, never one alive that should not be).

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use entity::{account_state, retired_refresh_token, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, SqlErr,
};

use crate::Error;
use crate::auth::{Auth, Token, secret};
use crate::users::now;

/// What a login or a refresh hands out.
pub struct TokenPair {
    pub access_token: Token,
    /// Opaque, single-use; never stored or logged as such.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub session_id: i32,
}

/// Written by hand so that no `{:?}` can print the refresh token.
impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &self.access_token)
            .field("refresh_token", &"***")
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// A session as its user may see it: never a token.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SessionInfo {
    pub id: i32,
    pub user_agent: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    /// The login, or the last refresh.
    pub last_used_at: DateTime<FixedOffset>,
    /// When its refresh token stops being accepted, unless refreshed before.
    pub expires_at: DateTime<FixedOffset>,
}

/// The longest `User-Agent` kept, in characters.
const USER_AGENT_MAX: usize = 255;

/// Who a new session is for, and from where.
pub struct Start<'a> {
    pub user_id: i32,
    /// The hash the user's password was just checked against (or made): the session starts
    /// only while it is still the user's.
    pub password_hash: &'a str,
    pub user_agent: Option<&'a str>,
    pub client: Option<IpAddr>,
}

/// Starts a session for a user who has just proved who they are, and issues its first token
/// pair. The user's expired sessions are swept on the way.
///
/// One `INSERT ... SELECT ... FROM users WHERE id = $ AND password = $`: a password changed
/// since it was checked (by its owner, locking whoever this is out; or the user deleted)
/// starts nothing, so no login that raced a password change keeps a session after it.
///
/// # Errors
/// `InvalidCredentials` when the password is no longer the one checked, or the user is gone;
/// database errors.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    start: Start<'_>,
) -> Result<TokenPair, Error> {
    let Start {
        user_id,
        password_hash,
        user_agent,
        client,
    } = start;
    let now = now();
    db.execute(
        &session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::ExpiresAt.lte(now))
            .into_query(),
    )
    .await?;
    let refresh = secret::generate()?;
    let user_agent = user_agent.map(|ua| ua.chars().take(USER_AGENT_MAX).collect::<String>());
    let values = Query::select()
        .exprs([
            Expr::col((user::Entity, user::Column::Id)),
            Expr::val(refresh.hash.clone()),
            Expr::val(user_agent),
            Expr::val(client.map(|ip| ip.to_string())),
            Expr::val(now),
            Expr::val(now),
            Expr::val(now + auth.refresh_ttl()),
        ])
        .from(user::Entity)
        .and_where(Expr::col((user::Entity, user::Column::Id)).eq(user_id))
        .and_where(Expr::col((user::Entity, user::Column::Password)).eq(password_hash))
        .to_owned();
    let insert = Query::insert()
        .into_table(session::Entity)
        .columns([
            session::Column::UserId,
            session::Column::RefreshTokenHash,
            session::Column::UserAgent,
            session::Column::ClientAddr,
            session::Column::CreatedAt,
            session::Column::LastUsedAt,
            session::Column::ExpiresAt,
        ])
        .select_from(values)
        .map_err(|e| Error::Internal(format!("session insert: {e}")))?
        .returning_col(session::Column::Id)
        .to_owned();
    let row = db
        .query_one(&insert)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    let session_id: i32 = row.try_get("", "id")?;
    pair(auth, user_id, session_id, refresh.plain)
}

fn pair(auth: &Auth, user_id: i32, session_id: i32, refresh: String) -> Result<TokenPair, Error> {
    Ok(TokenPair {
        access_token: auth.issue(user_id, session_id)?,
        refresh_token: refresh,
        expires_in: auth.access_ttl_secs(),
        session_id,
    })
}

/// Exchanges a refresh token for a new pair, retiring it.
///
/// First the token is claimed: its hash goes into `retired_refresh_tokens` if it is its
/// live session's current token (the primary key lets only one request claim it); then the
/// session takes the new token. A token that cannot be claimed because it was retired
/// already ends its session.
///
/// # Errors
/// `InvalidGrant` for a token that is unknown, expired, of an ended session, or reused (which
/// also ends its session); database errors.
pub async fn refresh<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    presented: &str,
) -> Result<TokenPair, Error> {
    let old = secret::hash(presented);
    let now = now();
    let claim = Query::insert()
        .into_table(retired_refresh_token::Entity)
        .columns([
            retired_refresh_token::Column::TokenHash,
            retired_refresh_token::Column::SessionId,
            retired_refresh_token::Column::RetiredAt,
        ])
        .select_from(
            Query::select()
                .expr(Expr::val(old.clone()))
                .column(session::Column::Id)
                .expr(Expr::val(now))
                .from(session::Entity)
                .and_where(Expr::col(session::Column::RefreshTokenHash).eq(old.clone()))
                .and_where(Expr::col(session::Column::ExpiresAt).gt(now))
                .to_owned(),
        )
        .map_err(|e| Error::Internal(format!("refresh claim: {e}")))?
        .to_owned();
    let claimed = match db.execute(&claim).await {
        Ok(done) => done.rows_affected() == 1,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => false,
        Err(e) => return Err(e.into()),
    };
    if !claimed {
        end_reused(db, &old).await?;
        return Err(Error::InvalidGrant);
    }
    let new = secret::generate()?;
    let rotate = Query::update()
        .table(session::Entity)
        .value(session::Column::RefreshTokenHash, new.hash.clone())
        .value(session::Column::LastUsedAt, now)
        .value(session::Column::ExpiresAt, now + auth.refresh_ttl())
        .and_where(Expr::col(session::Column::RefreshTokenHash).eq(old))
        .returning(Query::returning().columns([session::Column::Id, session::Column::UserId]))
        .to_owned();
    // None when the session ended between the two statements.
    let row = db.query_one(&rotate).await?.ok_or(Error::InvalidGrant)?;
    let session_id: i32 = row.try_get("", "id")?;
    let user_id: i32 = row.try_get("", "user_id")?;
    // The session's tokens retired a whole refresh lifetime ago go: each expired by now
    // (issued before it was retired), so presenting one again is refused either way. Only the
    // reuse alarm for it is lost; a session refreshed for years keeps a month of them. Best
    // effort: the rotation is done, and a client denied its new pair would retry with the old
    // token, which is reuse and would end its session.
    let prune = retired_refresh_token::Entity::delete_many()
        .filter(retired_refresh_token::Column::SessionId.eq(session_id))
        .filter(retired_refresh_token::Column::RetiredAt.lte(now - auth.refresh_ttl()))
        .into_query();
    if let Err(e) = db.execute(&prune).await {
        log::warn!("could not prune a session's retired refresh tokens: {e}");
    }
    pair(auth, user_id, session_id, new.plain)
}

/// Ends the session whose refresh token `hash` was retired already, if any: it was presented
/// twice, so someone else holds it.
async fn end_reused<C: ConnectionTrait>(db: &C, hash: &str) -> Result<(), Error> {
    let ended = db
        .execute(
            &session::Entity::delete_many()
                .filter(
                    session::Column::Id.in_subquery(
                        Query::select()
                            .column(retired_refresh_token::Column::SessionId)
                            .from(retired_refresh_token::Entity)
                            .and_where(Expr::col(retired_refresh_token::Column::TokenHash).eq(hash))
                            .to_owned(),
                    ),
                )
                .into_query(),
        )
        .await?;
    if ended.rows_affected() > 0 {
        log::warn!("a retired refresh token was presented again: its session is ended");
    }
    Ok(())
}

/// Ends `session_id` of `user_id` (a logout): its refresh token and access tokens are
/// refused from now on. Whether there was such a session.
///
/// # Errors
/// Database errors.
pub async fn end<C: ConnectionTrait>(db: &C, user_id: i32, session_id: i32) -> Result<bool, Error> {
    let done = db
        .execute(
            &session::Entity::delete_many()
                .filter(session::Column::Id.eq(session_id))
                .filter(session::Column::UserId.eq(user_id))
                .into_query(),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every session of `user_id` and revokes the user's tokens minted the course's way:
/// after this, no access or refresh token issued before is accepted.
///
/// # Errors
/// Database errors.
pub async fn end_all<C: ConnectionTrait>(db: &C, user_id: i32) -> Result<(), Error> {
    revoke_course_tokens(db, user_id).await?;
    db.execute(
        &session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .into_query(),
    )
    .await?;
    Ok(())
}

/// Refuses from now on every access token of `user_id` that belongs to no session and was
/// issued up to this second.
///
/// # Errors
/// Database errors.
pub async fn revoke_course_tokens<C: ConnectionTrait>(db: &C, user_id: i32) -> Result<(), Error> {
    let upsert = Query::insert()
        .into_table(account_state::Entity)
        .columns([
            account_state::Column::UserId,
            account_state::Column::TokensRevokedAt,
        ])
        .values_panic([user_id.into(), now().into()])
        .on_conflict(
            OnConflict::column(account_state::Column::UserId)
                .update_column(account_state::Column::TokensRevokedAt)
                .to_owned(),
        )
        .to_owned();
    db.execute(&upsert).await?;
    Ok(())
}

/// The live sessions of `user_id`, the most recently used first.
///
/// # Errors
/// Database errors.
pub async fn list<C: ConnectionTrait>(db: &C, user_id: i32) -> Result<Vec<SessionInfo>, Error> {
    Ok(session::Entity::find()
        .select_only()
        .columns([
            session::Column::Id,
            session::Column::UserAgent,
            session::Column::CreatedAt,
            session::Column::LastUsedAt,
            session::Column::ExpiresAt,
        ])
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ExpiresAt.gt(now()))
        .order_by_desc(session::Column::LastUsedAt)
        .order_by_desc(session::Column::Id)
        .into_model::<SessionInfo>()
        .all(db)
        .await?)
}
