//! Sessions and account state, beside the course's tables and changing none of them:
//!
//! - `sessions`: one row per login (a refresh-token family). Its id is the `sid` claim of the
//!   access tokens it issues; deleting the row ends the session and all of them.
//! - `retired_refresh_tokens`: the hashes of refresh tokens already exchanged, so that one
//!   presented again is recognised as stolen and its session ended.
//! - `account_states`: per user, when access tokens without a session were last revoked and
//!   when the email was verified. A user with no row has neither.
//! - `account_tokens`: single-use tokens sent by mail (password reset, email verification),
//!   one live token per user and purpose.
//!
//! Every token is stored as its SHA-256 hash, never as sent. Each table goes with its user
//! (`ON DELETE CASCADE`).

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    RefreshTokenHash,
    UserAgent,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RetiredRefreshTokens {
    Table,
    TokenHash,
    SessionId,
    RetiredAt,
}

#[derive(DeriveIden)]
enum AccountStates {
    Table,
    UserId,
    TokensRevokedAt,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    UserId,
    Purpose,
    TokenHash,
    Email,
    CreatedAt,
    ExpiresAt,
}

/// A SHA-256 hash, hex-encoded.
fn hash_column(column: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.string_len(64).not_null();
    def
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone().not_null();
    def
}

fn cascade_to_users(
    name: &str,
    table: impl IntoIden,
    column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(crate::serial_pk(manager, Sessions::Id))
                    .col(ColumnDef::new(Sessions::UserId).integer().not_null())
                    .col(hash_column(Sessions::RefreshTokenHash).unique_key())
                    .col(ColumnDef::new(Sessions::UserAgent).string_len(255).null())
                    .col(timestamp(Sessions::CreatedAt))
                    .col(timestamp(Sessions::LastUsedAt))
                    .col(timestamp(Sessions::ExpiresAt))
                    .foreign_key(&mut cascade_to_users(
                        "sessions_user_id_fkey",
                        Sessions::Table,
                        Sessions::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        // The user's sessions: listing them, ending them all, and the cascade.
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetiredRefreshTokens::Table)
                    .col(hash_column(RetiredRefreshTokens::TokenHash).primary_key())
                    .col(
                        ColumnDef::new(RetiredRefreshTokens::SessionId)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(RetiredRefreshTokens::RetiredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("retired_refresh_tokens_session_id_fkey")
                            .from(RetiredRefreshTokens::Table, RetiredRefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_retired_refresh_tokens_session_id")
                    .table(RetiredRefreshTokens::Table)
                    .col(RetiredRefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountStates::Table)
                    .col(
                        ColumnDef::new(AccountStates::UserId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AccountStates::TokensRevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AccountStates::EmailVerifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut cascade_to_users(
                        "account_states_user_id_fkey",
                        AccountStates::Table,
                        AccountStates::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(ColumnDef::new(AccountTokens::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(AccountTokens::Purpose)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(hash_column(AccountTokens::TokenHash).unique_key())
                    .col(ColumnDef::new(AccountTokens::Email).string().not_null())
                    .col(timestamp(AccountTokens::CreatedAt))
                    .col(timestamp(AccountTokens::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(AccountTokens::UserId)
                            .col(AccountTokens::Purpose),
                    )
                    .foreign_key(&mut cascade_to_users(
                        "account_tokens_user_id_fkey",
                        AccountTokens::Table,
                        AccountTokens::UserId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccountTokens::Table.into_iden(),
            AccountStates::Table.into_iden(),
            RetiredRefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
