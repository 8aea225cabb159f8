//! What the server needs of each table the course's schema may stand in for, and the check of
//! one table against it.

use std::collections::BTreeMap;

use sea_orm_migration::MigrationName;

use super::catalog::{Column, Constraint};

const TEXT: &[&str] = &["character varying", "text"];
const INTEGER: &[&str] = &["integer"];
const BOOLEAN: &[&str] = &["boolean"];
const TIMESTAMPTZ: &[&str] = &["timestamp with time zone"];
/// What one of our migrations builds, as far as the server relies on it.
pub(super) struct Expected {
    pub(super) table: &'static str,
    pub(super) migration: String,
    /// Columns the server reads and writes, with the data types it can decode; all NOT NULL.
    pub(super) columns: &'static [(&'static str, &'static [&'static str])],
    /// The integer key the database must fill in (serial or identity).
    pub(super) generated: Option<&'static str>,
    /// Primary key columns, sorted.
    pub(super) primary_key: &'static [&'static str],
    /// (column, referenced table): foreign keys that must cascade on delete.
    pub(super) foreign_keys: &'static [(&'static str, &'static str)],
    /// Plain indexes our migration creates and the course never had.
    pub(super) indexes: &'static [&'static str],
}

/// Our migrations the course's schema can stand in for, in migration order. Later migrations
/// of ours are never recorded here: they stay pending and `up` applies them.
pub(super) fn expected() -> Vec<Expected> {
    vec![
        Expected {
            table: "users",
            migration: crate::m20261125_000001_create_users::Migration
                .name()
                .to_owned(),
            columns: &[
                ("id", INTEGER),
                ("email", TEXT),
                ("password", TEXT),
                ("created_at", TIMESTAMPTZ),
            ],
            generated: Some("id"),
            primary_key: &["id"],
            foreign_keys: &[],
            // ix_users_email_lower is unique and may be impossible: see `create_email_index`.
            indexes: &[],
        },
        Expected {
            table: "posts",
            migration: crate::m20261125_000002_create_posts::Migration
                .name()
                .to_owned(),
            columns: &[
                ("id", INTEGER),
                ("title", TEXT),
                ("content", TEXT),
                ("published", BOOLEAN),
                ("created_at", TIMESTAMPTZ),
                ("owner_id", INTEGER),
            ],
            generated: Some("id"),
            primary_key: &["id"],
            foreign_keys: &[("owner_id", "users")],
            indexes: &["CREATE INDEX IF NOT EXISTS ix_posts_owner_id ON posts (owner_id)"],
        },
        Expected {
            table: "votes",
            migration: crate::m20261125_000003_create_votes::Migration
                .name()
                .to_owned(),
            columns: &[("user_id", INTEGER), ("post_id", INTEGER)],
            generated: None,
            primary_key: &["post_id", "user_id"],
            foreign_keys: &[("user_id", "users"), ("post_id", "posts")],
            indexes: &["CREATE INDEX IF NOT EXISTS ix_votes_post_id ON votes (post_id)"],
        },
    ]
}

/// Compares one table with what the server needs; appends what is wrong to `problems`.
pub(super) fn check(
    spec: &Expected,
    columns: &BTreeMap<(String, String), Column>,
    constraints: &[Constraint],
    problems: &mut Vec<String>,
) {
    check_columns(spec, columns, problems);
    check_keys(spec, columns, constraints, problems);
}

fn check_columns(
    spec: &Expected,
    columns: &BTreeMap<(String, String), Column>,
    problems: &mut Vec<String>,
) {
    let table = spec.table;
    for (name, types) in spec.columns {
        match columns.get(&(table.to_owned(), (*name).to_owned())) {
            None => problems.push(format!("{table} has no column {name}")),
            Some(c) if !types.contains(&c.data_type.as_str()) => problems.push(format!(
                "{table}.{name} is {}, expected {}",
                c.data_type,
                types.join(" or ")
            )),
            Some(c) if c.nullable => problems.push(format!("{table}.{name} allows NULL")),
            Some(_) => {}
        }
    }
    if let Some(name) = spec.generated
        && let Some(c) = columns.get(&(table.to_owned(), name.to_owned()))
        && !c.generated
    {
        problems.push(format!(
            "{table}.{name} has no default (serial or identity) to number new rows"
        ));
    }
    // Extra columns (the course's users.phone_number) are fine as long as an insert that
    // does not name them succeeds.
    for ((t, name), c) in columns {
        let ours = spec.columns.iter().any(|(n, _)| n == name);
        if t == table && !ours && !c.nullable && !c.generated && !c.has_default {
            problems.push(format!(
                "{table}.{name} is NOT NULL without a default, so new rows cannot be inserted"
            ));
        }
    }
}

fn check_keys(
    spec: &Expected,
    columns: &BTreeMap<(String, String), Column>,
    constraints: &[Constraint],
    problems: &mut Vec<String>,
) {
    let table = spec.table;
    let has_pk = constraints
        .iter()
        .any(|k| k.table == table && k.kind == "p" && k.columns == spec.primary_key.join(","));
    if !has_pk {
        problems.push(format!(
            "{table} lacks the primary key ({})",
            spec.primary_key.join(", ")
        ));
    }
    for (column, target) in spec.foreign_keys {
        if !columns.contains_key(&(table.to_owned(), (*column).to_owned())) {
            continue; // reported above
        }
        let fk = constraints.iter().find(|k| {
            k.table == table && k.kind == "f" && k.columns == *column && k.references == *target
        });
        match fk {
            None => problems.push(format!(
                "{table}.{column} lacks its foreign key to {target}"
            )),
            Some(k) if k.on_delete != "c" => problems.push(format!(
                "the foreign key {table}.{column} -> {target} is not ON DELETE CASCADE"
            )),
            Some(_) => {}
        }
    }
}
