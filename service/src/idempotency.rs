//! Safe retries (`Idempotency-Key`, draft-ietf-httpapi-idempotency-key-header): the first
//! response to a (user, key) is kept in the database and handed to every repeat of the same
//! request, on any replica, so a retry after a timeout never creates a second post or vote.
//!
//! A request [`reserve`]s its key before it runs (a row with no status yet, inserted only if
//! none is there: the primary key decides between two racing repeats), then [`complete`]s it
//! with its response, or [`release`]s it when the response must not be replayed (a server
//! failure: a retry should run again). A reservation whose request died with its process is
//! taken over once it is older than [`LEASE`].

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::TimeDelta;
use entity::idempotency_key as row;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait};

use crate::Error;
use crate::auth::secret;
use crate::users::now;

/// How long a reservation without a response holds its key: longer than any request runs.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The key is this request's: run it, then [`complete`] or [`release`].
    Fresh,
    /// The key answered already: send this again.
    Replay { status: u16, body: String },
}

/// The fingerprint of a request: its route and what it asks, so that the same key with
/// another request is told apart.
pub fn fingerprint(route: &str, meaning: &str) -> String {
    secret::hash(&format!("{route}\n{meaning}"))
}

/// Keys reserved by this process: every [`SWEEP_EVERY`]th sweeps expired ones.
static RESERVED: AtomicU32 = AtomicU32::new(0);
const SWEEP_EVERY: u32 = 256;

/// Reserves `key` of `user_id` for a request with `fingerprint`, kept for `ttl`; or tells
/// what the key answered before.
///
/// # Errors
/// `IdempotencyKeyReused` for a key used with another request; `IdempotencyKeyInProgress`
/// while the key's first request still runs; database errors.
pub async fn reserve<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    key: &str,
    fingerprint: &str,
    ttl: TimeDelta,
) -> Result<Reservation, Error> {
    if RESERVED.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
        db.execute(
            &row::Entity::delete_many()
                .filter(row::Column::ExpiresAt.lte(now()))
                .into_query(),
        )
        .await?;
    }
    // Twice at most: once more after taking over an expired or abandoned key.
    for _ in 0..2 {
        let now = now();
        let insert = Query::insert()
            .into_table(row::Entity)
            .columns([
                row::Column::UserId,
                row::Column::IdempotencyKey,
                row::Column::Fingerprint,
                row::Column::CreatedAt,
                row::Column::ExpiresAt,
            ])
            .values_panic([
                user_id.into(),
                key.into(),
                fingerprint.into(),
                now.into(),
                (now + ttl).into(),
            ])
            .on_conflict(
                OnConflict::columns([row::Column::UserId, row::Column::IdempotencyKey])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        if db.execute(&insert).await?.rows_affected() == 1 {
            return Ok(Reservation::Fresh);
        }
        let found = row::Entity::find_by_id((user_id, key.to_owned()))
            .one(db)
            .await?;
        let Some(row::Model {
            fingerprint: stored,
            status,
            body,
            created_at,
            expires_at,
            ..
        }) = found
        else {
            continue; // released meanwhile: try again
        };
        let abandoned = status.is_none() && created_at + LEASE <= now;
        if expires_at <= now || abandoned {
            // Only while it still is expired or abandoned: a racing request that took it over
            // first keeps its fresh reservation.
            db.execute(
                &row::Entity::delete_many()
                    .filter(row::Column::UserId.eq(user_id))
                    .filter(row::Column::IdempotencyKey.eq(key))
                    .filter(
                        Condition::any().add(row::Column::ExpiresAt.lte(now)).add(
                            Condition::all()
                                .add(row::Column::Status.is_null())
                                .add(row::Column::CreatedAt.lte(now - LEASE)),
                        ),
                    )
                    .into_query(),
            )
            .await?;
            continue;
        }
        // While the first runs, any repeat waits (409); only then is it compared.
        let (Some(status), Some(body)) = (status, body) else {
            return Err(Error::IdempotencyKeyInProgress);
        };
        if stored != fingerprint {
            return Err(Error::IdempotencyKeyReused);
        }
        return Ok(Reservation::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        });
    }
    Err(Error::IdempotencyKeyInProgress)
}

/// Keeps the response to `key`'s request, to replay.
///
/// # Errors
/// Database errors.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), Error> {
    let status = i16::try_from(status).map_err(|_| Error::Internal(format!("status {status}")))?;
    db.execute(
        &Query::update()
            .table(row::Entity)
            .value(row::Column::Status, status)
            .value(row::Column::Body, body)
            .and_where(row::Column::UserId.eq(user_id))
            .and_where(row::Column::IdempotencyKey.eq(key))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Gives `key` up without a response to replay: its next use runs the request again.
///
/// # Errors
/// Database errors.
pub async fn release<C: ConnectionTrait>(db: &C, user_id: i32, key: &str) -> Result<(), Error> {
    db.execute(
        &row::Entity::delete_many()
            .filter(row::Column::UserId.eq(user_id))
            .filter(row::Column::IdempotencyKey.eq(key))
            .filter(row::Column::Status.is_null())
            .into_query(),
    )
    .await?;
    Ok(())
}
