//! Login throttling in the database, so that every replica and every restart counts the same
//! failures:
//!
//! - `login_failures`: one row per counted thing (an account, a client address, or an account
//!   and client pair) with its failures in the current window.
//! - `sessions.client_addr`: the address a session logged in from, so that a client which has
//!   logged in to an account before is known to be its owner's.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Scope,
    Subject,
    Failures,
    WindowStart,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ClientAddr,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(
                        ColumnDef::new(LoginFailures::Scope)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LoginFailures::Subject).string().not_null())
                    .col(ColumnDef::new(LoginFailures::Failures).integer().not_null())
                    .col(
                        ColumnDef::new(LoginFailures::WindowStart)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(LoginFailures::Scope)
                            .col(LoginFailures::Subject),
                    )
                    .to_owned(),
            )
            .await?;
        // The sweep of ended windows.
        manager
            .create_index(
                Index::create()
                    .name("ix_login_failures_window_start")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::WindowStart)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::ClientAddr).string_len(45).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::ClientAddr)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}
