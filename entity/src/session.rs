//! `sessions`: one row per login, the family of the refresh tokens it hands out. Its id is
//! the `sid` claim of its access tokens.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// SHA-256 (hex) of the one refresh token that may be exchanged now.
    #[sea_orm(unique)]
    pub refresh_token_hash: String,
    /// The `User-Agent` of the login, cut to 255 characters.
    pub user_agent: Option<String>,
    /// The client address the login came from: a client known to the account.
    pub client_addr: Option<String>,
    pub created_at: DateTimeWithTimeZone,
    /// The login, or the last refresh.
    pub last_used_at: DateTimeWithTimeZone,
    /// When the current refresh token stops being accepted.
    pub expires_at: DateTimeWithTimeZone,
}

// Hand-written so that a stray `{:?}` never prints the token's hash.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("session::Model")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
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
    #[sea_orm(has_many = "super::retired_refresh_token::Entity")]
    RetiredRefreshToken,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::retired_refresh_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RetiredRefreshToken.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
