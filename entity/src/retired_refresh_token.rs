//! `retired_refresh_tokens`: refresh tokens already exchanged. One presented again was
//! stolen or replayed, and ends its session.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retired_refresh_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the retired token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub session_id: i32,
    pub retired_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
