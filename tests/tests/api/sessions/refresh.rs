//! The refresh grant: rotation, single use, reuse ending the session, expiry, and refusals
//! that are 400 `invalid_grant` or 422, never 500.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use tests::{Pair, assert_only_missing, json_of, spawn_app};

use super::{assert_invalid_grant, me_status};

#[tokio::test]
async fn login_answers_a_refresh_token_and_expires_in_beside_the_courses_fields() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json_of(app.login(&ann.email, tests::PASSWORD).await).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.len(), 43, "256 bits, base64url: {refresh}");
    // Stored only as a hash: the token itself is nowhere in the database.
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT refresh_token_hash FROM sessions",
        ))
        .await
        .unwrap();
    for row in rows {
        let hash: String = row.try_get("", "refresh_token_hash").unwrap();
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, refresh);
    }
}

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_a_reused_token_ends_the_session() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let first = app.session(&ann).await;
    let res = app.refresh(&first.refresh).await;
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let second = Pair::of(res).await;
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(me_status(&app, &second.access).await, 200);
    // Access tokens of the session stay valid until it ends.
    assert_eq!(me_status(&app, &first.access).await, 200);
    let third = Pair::of(app.refresh(&second.refresh).await).await;

    // The first refresh token, retired twice over, comes back: the session ends.
    assert_invalid_grant(app.refresh(&first.refresh).await, "a retired token").await;
    assert_invalid_grant(
        app.refresh(&third.refresh).await,
        "the live token after reuse",
    )
    .await;
    for access in [&first.access, &second.access, &third.access] {
        assert_eq!(me_status(&app, access).await, 401);
    }
    // Other sessions are not touched.
    assert_eq!(me_status(&app, &ann.token).await, 200);
}

#[tokio::test]
async fn two_refreshes_racing_with_one_token_never_both_succeed() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let pair = app.session(&ann).await;
    let (a, b) = tokio::join!(app.refresh(&pair.refresh), app.refresh(&pair.refresh));
    let winners: Vec<_> = [a, b]
        .into_iter()
        .filter(|r| r.status() == StatusCode::OK)
        .collect();
    assert!(winners.len() <= 1, "one refresh token, two new pairs");
    // Whichever won, the token was presented twice: nothing of the session works any more.
    for res in winners {
        let won = Pair::of(res).await;
        assert_invalid_grant(app.refresh(&won.refresh).await, "the winner's token").await;
        assert_eq!(me_status(&app, &won.access).await, 401);
    }
    assert_eq!(me_status(&app, &pair.access).await, 401);
}

#[tokio::test]
async fn unknown_expired_and_missing_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    for token in ["nope", "\u{e9}t\u{e9}", &"x".repeat(5000)] {
        assert_invalid_grant(app.refresh(token).await, "unknown").await;
    }
    let pair = app.session(&ann).await;
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = '2001-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    assert_invalid_grant(app.refresh(&pair.refresh).await, "expired").await;

    // The password grant's fields are not asked for.
    for fields in [
        vec![("grant_type", "refresh_token")],
        vec![
            ("grant_type", "refresh_token"),
            ("username", ann.email.as_str()),
        ],
    ] {
        let res = app.login_form(&fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = json_of(res).await;
        assert_only_missing(&body, &["refresh_token"], "refresh grant without a token");
    }
}

#[tokio::test]
async fn a_refreshed_session_keeps_its_id_and_moves_its_last_use() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let pair = app.session(&ann).await;
    let before = json_of(app.get("/users/me/sessions", Some(&pair.access)).await).await;
    let next = Pair::of(app.refresh(&pair.refresh).await).await;
    let after = json_of(app.get("/users/me/sessions", Some(&next.access)).await).await;
    let find = |list: &serde_json::Value, current: bool| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == current)
            .cloned()
            .unwrap()
    };
    let (b, a) = (find(&before, true), find(&after, true));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["created_at"], b["created_at"]);
    assert!(a["last_used_at"].as_str() > b["last_used_at"].as_str());
}

#[tokio::test]
async fn retired_tokens_are_kept_for_a_refresh_lifetime_then_pruned() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let first = app.session(&ann).await;
    let second = Pair::of(app.refresh(&first.refresh).await).await;
    let retired = |app: &tests::TestApp| {
        let db = app.db.clone();
        let statement = sea_orm::Statement::from_string(
            app.backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM retired_refresh_tokens",
        );
        async move {
            let row = db.query_one_raw(statement).await.unwrap().unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(retired(&app).await, 1);
    // The token retired so far was retired a refresh lifetime ago, as far as the database
    // knows; the next refresh prunes it and keeps the one it retires.
    app.db
        .execute_unprepared(
            "UPDATE retired_refresh_tokens SET retired_at = '2001-01-01 00:00:00+00:00'",
        )
        .await
        .unwrap();
    let third = Pair::of(app.refresh(&second.refresh).await).await;
    assert_eq!(
        retired(&app).await,
        1,
        "the old one pruned, the new one kept"
    );
    // The pruned token is refused as any unknown one, and no longer ends the session (it
    // expired long ago); a token retired within the lifetime still does.
    assert_invalid_grant(app.refresh(&first.refresh).await, "a pruned token").await;
    assert_eq!(me_status(&app, &third.access).await, 200);
    assert_invalid_grant(app.refresh(&second.refresh).await, "a retired token").await;
    assert_eq!(me_status(&app, &third.access).await, 401);
}
