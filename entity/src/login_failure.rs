//! `login_failures`: failed logins counted per account, per client address, and per account
//! and client pair, within a window; the same counts for every replica.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// `account`, `client` or `pair`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// The lower-cased email, the client address, or both joined by a space.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// Failures since `window_start`.
    pub failures: i32,
    pub window_start: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
