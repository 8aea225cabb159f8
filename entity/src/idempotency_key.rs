//! `idempotency_keys`: the first response to each (user, `Idempotency-Key`) of the routes
//! that honour the header, replayed to a retry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// The header's value, as the client sent it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// SHA-256 (hex) of the route and the request's meaning: the same key with another
    /// request is refused.
    pub fingerprint: String,
    /// The response's status; `None` while the first request runs.
    pub status: Option<i16>,
    /// The response's JSON body.
    pub body: Option<String>,
    pub created_at: DateTimeWithTimeZone,
    pub expires_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
