//! `posts`, owned by a user and deleted with them.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Posts {
    Table,
    Id,
    Title,
    Content,
    Published,
    CreatedAt,
    OwnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(crate::serial_pk(manager, Posts::Id))
                    .col(ColumnDef::new(Posts::Title).string().not_null())
                    .col(ColumnDef::new(Posts::Content).string().not_null())
                    .col(
                        ColumnDef::new(Posts::Published)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Posts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(ColumnDef::new(Posts::OwnerId).integer().not_null())
                    .foreign_key(
                        // The course's constraint name, so its schema and ours read alike.
                        ForeignKey::create()
                            .name("post_users_fk")
                            .from(Posts::Table, Posts::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Serves the ownership filter of the post list ("published OR owner_id = me") and
        // the cascade when a user is deleted.
        manager
            .create_index(
                Index::create()
                    .name("ix_posts_owner_id")
                    .table(Posts::Table)
                    .col(Posts::OwnerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}
