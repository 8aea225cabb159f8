//! The statements of `login_failures`: what the throttle writes, in which order, and what it
//! sweeps. Every statement that writes a login's rows writes them in [`Scope`]'s order.

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, TimeDelta};
use entity::login_failure;
use sea_orm::sea_query::{
    Alias, DeleteStatement, Expr, ExprTrait, InsertStatement, OnConflict, Query,
};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryResult, QueryTrait};

use super::KNOWN_FOR;
use crate::users::now;

/// Counts are swept once their window started this long ago: longer than any window the
/// settings allow (`LOGIN_FAILURE_WINDOW_SECS`, `MAIL_REQUEST_WINDOW_SECS`: at most a day).
const SWEEP_AFTER: TimeDelta = TimeDelta::days(1);

/// What is counted. The order is the order every statement writes a login's rows in, so
/// that two statements on the same rows never wait for each other in a circle (a deadlock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Scope {
    Account,
    Client,
    Pair,
    /// A pair that has logged in: not a count, a memory (see [`KNOWN_FOR`]).
    Known,
}

impl Scope {
    pub(super) fn parse(scope: &str) -> Option<Self> {
        [Scope::Account, Scope::Client, Scope::Pair, Scope::Known]
            .into_iter()
            .find(|s| s.as_str() == scope)
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Client => "client",
            Scope::Pair => "pair",
            Scope::Known => "known",
        }
    }
}

/// A row of `login_failures` as an attempt's count left it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Count {
    pub(super) scope: Scope,
    pub(super) subject: String,
    pub(super) failures: i32,
    /// The window the attempt was counted in: a give-back touches the row only in it.
    pub(super) window_start: DateTime<FixedOffset>,
}

impl Count {
    /// The row [`count`]'s `RETURNING` answered (`None` for a scope this code does not know).
    pub(super) fn of(row: &QueryResult) -> Result<Option<Self>, DbErr> {
        let scope: String = row.try_get_by_index(0)?;
        let Some(scope) = Scope::parse(&scope) else {
            return Ok(None);
        };
        Ok(Some(Count {
            scope,
            subject: row.try_get_by_index(1)?,
            failures: row.try_get_by_index(2)?,
            window_start: row.try_get_by_index(3)?,
        }))
    }
}

/// One more failure for each of `subjects`, starting a new window for a count whose window
/// started at `ended` or before; answers each row as it left it ([`Count::of`]).
pub(super) fn count(
    subjects: &[(Scope, String)],
    now: DateTime<FixedOffset>,
    ended: DateTime<FixedOffset>,
) -> InsertStatement {
    let table = login_failure::Entity;
    let window_ended =
        || Expr::col((table, login_failure::Column::WindowStart)).lte(Expr::val(ended));
    let mut upsert = rows_insert();
    for (scope, subject) in subjects {
        upsert.values_panic([
            scope.as_str().into(),
            subject.as_str().into(),
            1.into(),
            now.into(),
        ]);
    }
    upsert.on_conflict(
        OnConflict::columns([login_failure::Column::Scope, login_failure::Column::Subject])
            .values([
                (
                    login_failure::Column::Failures,
                    Expr::case(window_ended(), 1)
                        .finally(Expr::col((table, login_failure::Column::Failures)).add(1))
                        .into(),
                ),
                (
                    login_failure::Column::WindowStart,
                    Expr::case(window_ended(), Expr::val(now))
                        .finally(Expr::col((table, login_failure::Column::WindowStart)))
                        .into(),
                ),
            ])
            .to_owned(),
    );
    upsert.returning(Query::returning().columns([
        login_failure::Column::Scope,
        login_failure::Column::Subject,
        login_failure::Column::Failures,
        login_failure::Column::WindowStart,
    ]));
    upsert
}

/// `INSERT INTO login_failures (scope, subject, failures, window_start)`, its rows to come.
fn rows_insert() -> InsertStatement {
    Query::insert()
        .into_table(login_failure::Entity)
        .columns([
            login_failure::Column::Scope,
            login_failure::Column::Subject,
            login_failure::Column::Failures,
            login_failure::Column::WindowStart,
        ])
        .to_owned()
}

/// The subject of `account`'s pair with `ip`.
pub(super) fn pair(account: &str, ip: IpAddr) -> String {
    format!("{account} {ip}")
}

/// The subject of the row that says `ip` has logged in to user `user_id`: by id, not email,
/// so that it follows the account through an email change and goes nowhere with a deleted
/// one (ids are never reused).
pub(super) fn known_subject(user_id: i32, ip: IpAddr) -> String {
    format!("{user_id} {ip}")
}

/// Gives back one failure of each row in `counted` (an attempt's own count: each row only in
/// the window it was counted in, so a give-back never takes a failure from a later window);
/// with `forget_pair`, the pair's failures all go; with `known`, that row is written (or
/// refreshed) too. An upsert, not an `UPDATE`: it writes the rows in the order the count
/// wrote them ([`Scope`]'s), so the two never deadlock on PostgreSQL. `None`: nothing to do.
pub(super) fn give_back(
    counted: &[Count],
    forget_pair: bool,
    known: Option<&str>,
) -> Option<InsertStatement> {
    if counted.is_empty() && known.is_none() {
        return None;
    }
    let table = login_failure::Entity;
    let (scope, failures, window_start) = (
        || Expr::col((table, login_failure::Column::Scope)),
        || Expr::col((table, login_failure::Column::Failures)),
        || Expr::col((table, login_failure::Column::WindowStart)),
    );
    let excluded_start = || Expr::col((Alias::new("excluded"), login_failure::Column::WindowStart));
    let mut upsert = rows_insert();
    for count in counted {
        upsert.values_panic([
            count.scope.as_str().into(),
            count.subject.as_str().into(),
            0.into(),
            count.window_start.into(),
        ]);
    }
    if let Some(subject) = known {
        upsert.values_panic([
            Scope::Known.as_str().into(),
            subject.into(),
            0.into(),
            now().into(),
        ]);
    }
    let mut less = Expr::case(scope().eq(Scope::Known.as_str()), 0)
        .case(window_start().ne(excluded_start()), failures());
    if forget_pair {
        less = less.case(scope().eq(Scope::Pair.as_str()), 0);
    }
    let less = less.case(failures().gt(0), failures().sub(1)).finally(0);
    let start =
        Expr::case(scope().eq(Scope::Known.as_str()), excluded_start()).finally(window_start());
    upsert.on_conflict(
        OnConflict::columns([login_failure::Column::Scope, login_failure::Column::Subject])
            .values([
                (login_failure::Column::Failures, less.into()),
                (login_failure::Column::WindowStart, start.into()),
            ])
            .to_owned(),
    );
    Some(upsert)
}

/// Ended windows, and known clients not seen for [`KNOWN_FOR`]: a day back, not one
/// throttle's own window, as other throttles (the mail routes') keep their counts in the same
/// table with windows of up to a day.
pub(super) fn sweep(now: DateTime<FixedOffset>) -> DeleteStatement {
    let known = || login_failure::Column::Scope.eq(Scope::Known.as_str());
    let stale = Condition::any()
        .add(
            Condition::all()
                .add(known().not())
                .add(login_failure::Column::WindowStart.lte(now - SWEEP_AFTER)),
        )
        .add(
            Condition::all()
                .add(known())
                .add(login_failure::Column::WindowStart.lte(now - KNOWN_FOR)),
        );
    login_failure::Entity::delete_many()
        .filter(stale)
        .into_query()
}
