//! `votes`: one row per (user, post); the composite primary key is what makes a second vote
//! impossible, even under concurrent requests.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_users::Users;
use crate::m20261125_000002_create_posts::Posts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Votes {
    Table,
    UserId,
    PostId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Votes::Table)
                    .col(ColumnDef::new(Votes::UserId).integer().not_null())
                    .col(ColumnDef::new(Votes::PostId).integer().not_null())
                    .primary_key(Index::create().col(Votes::UserId).col(Votes::PostId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("votes_user_id_fkey")
                            .from(Votes::Table, Votes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("votes_post_id_fkey")
                            .from(Votes::Table, Votes::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The primary key (user_id, post_id) cannot serve "votes of this post": counting
        // votes per post, and the cascade from a deleted post, need this one.
        manager
            .create_index(
                Index::create()
                    .name("ix_votes_post_id")
                    .table(Votes::Table)
                    .col(Votes::PostId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Votes::Table).to_owned())
            .await
    }
}
