//! Login throttling (429 with `Retry-After` and the RateLimit fields, counted in the database)
//! and the token rules beyond the basic ones.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;
use tests::sea_orm::{ConnectionTrait, Statement};
use tests::{PASSWORD, SECRET, assert_detail, json_of, now, serve, spawn_app_with, token_with};

#[tokio::test]
async fn failed_logins_for_one_account_are_throttled_with_retry_after() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "3"),
        ("LOGIN_FAILURE_WINDOW_SECS", "60"),
    ])
    .await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    for attempt in 1..=3 {
        let res = app.login(&ann.email, "wrong password").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {attempt}");
    }
    // Now even the right password waits, in any spelling of the email.
    for (email, password) in [
        (ann.email.as_str(), "wrong password"),
        (ann.email.as_str(), PASSWORD),
        ("ANN@example.com", PASSWORD),
    ] {
        let res = app.login(email, password).await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        let field = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(field("ratelimit-policy"), "\"login\";q=3;w=60");
        assert_eq!(field("ratelimit"), format!("\"login\";r=0;t={retry}"));
        assert_detail(res, 429, "too many login attempts").await;
    }
    // Another account, and every other route, are unaffected.
    assert_eq!(
        app.login(&bob.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.list_posts(&ann, &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn failed_logins_from_one_client_are_throttled_across_accounts() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "4"),
    ])
    .await;
    let ann = app.user("ann").await;
    for n in 0..4 {
        let res = app.login(&format!("nobody{n}@example.com"), PASSWORD).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {n}");
    }
    assert_detail(
        app.login(&ann.email, PASSWORD).await,
        429,
        "too many login attempts",
    )
    .await;
}

#[tokio::test]
async fn a_successful_login_clears_that_clients_failures_on_the_account() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let ann = app.user("ann").await;
    for round in 0..3 {
        for _ in 0..2 {
            let res = app.login(&ann.email, "wrong password").await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "round {round}");
        }
        assert_eq!(
            app.login(&ann.email, PASSWORD).await.status(),
            StatusCode::OK
        );
    }
}

/// A client whose requests come from `source`, another loopback address: a client address
/// of its own as the server sees it.
fn client_from(source: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(source))
        .build()
        .unwrap()
}

async fn login_from(app: &tests::TestApp, client: &reqwest::Client, password: &str) -> u16 {
    client
        .post(app.url("/login"))
        .form(&[("username", "ann@example.com"), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_owner_on_a_known_client_logs_in_while_a_guesser_is_throttled() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    // Ann registers and logs in from 127.0.0.1 (the test's usual address): a client her
    // account knows.
    app.user("ann").await;
    let guesser = client_from([127, 0, 0, 2]);
    for _ in 0..3 {
        assert_eq!(login_from(&app, &guesser, "guess").await, 403);
    }
    assert_eq!(
        login_from(&app, &guesser, PASSWORD).await,
        429,
        "the guesser"
    );
    // The account's budget is spent for every address it does not know, right password or not.
    let stranger = client_from([127, 0, 0, 3]);
    assert_eq!(
        login_from(&app, &stranger, PASSWORD).await,
        429,
        "a new address"
    );
    // Ann, where she has logged in before, still gets in.
    let ann = client_from([127, 0, 0, 1]);
    assert_eq!(login_from(&app, &ann, PASSWORD).await, 200, "the owner");
    // Someone guessing from Ann's own address is held by the count of that address.
    for _ in 0..3 {
        assert_eq!(login_from(&app, &ann, "guess").await, 403);
    }
    assert_eq!(
        login_from(&app, &ann, PASSWORD).await,
        429,
        "her address, spent"
    );
}

#[tokio::test]
async fn the_owner_stays_known_to_the_account_after_logging_out() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    // Ann logs in from 127.0.0.1, then logs out: no session of hers is left anywhere.
    let ann = app.user("ann").await;
    let res = app
        .request(reqwest::Method::POST, "/logout/all", Some(&ann.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let guesser = client_from([127, 0, 0, 6]);
    for _ in 0..3 {
        assert_eq!(login_from(&app, &guesser, "guess").await, 403);
    }
    assert_eq!(login_from(&app, &guesser, PASSWORD).await, 429);
    // Where she logged in before, she still gets in: the address is known to the account,
    // whatever became of the session it made.
    let home = client_from([127, 0, 0, 1]);
    assert_eq!(login_from(&app, &home, PASSWORD).await, 200, "the owner");
}

/// `login_failures`' count for `scope` and `subject`, if it has a row.
async fn failures(app: &tests::TestApp, scope: &str, subject: &str) -> Option<i32> {
    let sql = format!(
        "SELECT failures FROM login_failures WHERE scope = '{scope}' AND subject = '{subject}'"
    );
    app.db
        .query_one_raw(Statement::from_string(app.backend(), sql))
        .await
        .unwrap()
        .map(|row| row.try_get::<i32>("", "failures").unwrap())
}

#[tokio::test]
async fn a_success_gives_back_its_own_count_and_no_more() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    app.user("ann").await;
    let (account, pair) = ("ann@example.com", "ann@example.com 127.0.0.9");
    assert_eq!(
        failures(&app, "account", account).await,
        Some(0),
        "a login counts nothing"
    );
    let client = client_from([127, 0, 0, 9]);
    for n in 1..=2 {
        assert_eq!(login_from(&app, &client, "guess").await, 403);
        assert_eq!(failures(&app, "account", account).await, Some(n));
    }
    assert_eq!(login_from(&app, &client, PASSWORD).await, 200);
    assert_eq!(
        failures(&app, "account", account).await,
        Some(2),
        "the success gave back its own count, not one of the failures'"
    );
    assert_eq!(
        failures(&app, "pair", pair).await,
        Some(0),
        "its pair forgotten"
    );
    // A refused attempt counts nothing either.
    assert_eq!(login_from(&app, &client, "guess").await, 403);
    let stranger = client_from([127, 0, 0, 10]);
    assert_eq!(login_from(&app, &stranger, PASSWORD).await, 429);
    assert_eq!(failures(&app, "account", account).await, Some(3));
    assert_eq!(
        failures(&app, "pair", "ann@example.com 127.0.0.10").await,
        Some(0)
    );
}

#[tokio::test]
async fn concurrent_wrong_passwords_get_no_more_than_the_limit_between_them() {
    const LIMIT: usize = 5;
    const SENT: usize = 30;
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "5")]).await;
    app.user("ann").await;
    // All at once, from one new address and from many: each attempt is counted before its
    // password is checked, so those in flight together cannot all pass the check.
    for sources in [
        vec![[127, 0, 0, 7]],
        (10..40).map(|n| [127, 0, 1, n]).collect(),
    ] {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..SENT {
            let client = client_from(sources[n % sources.len()]);
            let url = app.url("/login");
            set.spawn(async move {
                let form = [("username", "ann@example.com"), ("password", "guess")];
                client
                    .post(url)
                    .form(&form)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
        }
        let statuses: Vec<u16> = set
            .join_all()
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let tried = statuses.iter().filter(|s| **s == 403).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!(
            (tried, refused),
            (LIMIT, SENT - LIMIT),
            "{sources:?}: {statuses:?}"
        );
        // The window is the account's now, for every address: the next round is all 429s,
        // so it is a new account's turn.
        app.db
            .execute_unprepared("DELETE FROM login_failures")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn failed_logins_are_counted_in_the_database_for_every_server() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "4")]).await;
    app.user("ann").await;
    // A second server on the same database: a replica, or this one after a restart.
    let other = tests::serve(&app.database_url, &[("LOGIN_MAX_FAILURES", "4")]).await;
    let stranger = client_from([127, 0, 0, 4]);
    let on = |base: &str| {
        stranger
            .post(format!("{base}/login"))
            .form(&[("username", "ann@example.com"), ("password", "guess")])
            .send()
    };
    for base in [&app.address, &other.address, &app.address, &other.address] {
        assert_eq!(on(base).await.unwrap().status(), 403);
    }
    assert_eq!(on(&app.address).await.unwrap().status(), 429);
    assert_eq!(on(&other.address).await.unwrap().status(), 429);
}

#[tokio::test]
async fn throttling_can_be_switched_off() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "0"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "0"),
    ])
    .await;
    let ann = app.user("ann").await;
    for _ in 0..15 {
        let res = app.login(&ann.email, "wrong password").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.login(&ann.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_not_valid_before_a_future_time_is_refused() {
    let app = spawn_app_with(&[]).await;
    let ann = app.user("ann").await;
    let early = token_with(
        &json!({"user_id": ann.id, "exp": now() + 600, "nbf": now() + 300}),
        Algorithm::HS256,
        SECRET,
    );
    let res = app.get("/users/me", Some(&early)).await;
    assert_detail(res, 401, "Could not validate credentials").await;
    let ready = token_with(
        &json!({"user_id": ann.id, "exp": now() + 600, "nbf": now() - 5}),
        Algorithm::HS256,
        SECRET,
    );
    assert_eq!(
        app.get("/users/me", Some(&ready)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_200_kb_authorization_header_is_refused_and_the_server_keeps_answering() {
    let app = spawn_app_with(&[]).await;
    let huge = format!("Bearer {}", "a".repeat(200 * 1024));
    // The server may answer 431 and close before reading everything: a reset is fine, a
    // success or a 5xx is not.
    if let Ok(res) = app
        .request(reqwest::Method::GET, "/posts/", None)
        .header("Authorization", huge)
        .send()
        .await
    {
        let status = res.status().as_u16();
        assert!(status == 431 || status == 401, "got {status}");
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_emails_and_wrong_passwords_take_about_as_long() {
    // A real cost, so bcrypt dominates the time of each answer.
    let app = spawn_app_with(&[("BCRYPT_COST", "8"), ("LOGIN_MAX_FAILURES", "0")]).await;
    let ann = app.user("ann").await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    // Interleaved, so drift in the machine's load hits both alike.
    for n in 0..11 {
        let started = std::time::Instant::now();
        let res = app.login(&format!("nobody{n}@example.com"), PASSWORD).await;
        unknown.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let started = std::time::Instant::now();
        let res = app.login(&ann.email, "wrong password").await;
        wrong.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    unknown.sort();
    wrong.sort();
    let (u, w) = (unknown[5].as_secs_f64(), wrong[5].as_secs_f64());
    // Without the dummy hash an unknown email would answer in a fraction of the time.
    assert!(
        u / w > 0.5 && u / w < 2.0,
        "medians: unknown {u:.4}s, wrong {w:.4}s"
    );
}

/// The stored hashes have another cost than `BCRYPT_COST` (a database adopted from the
/// course, or the cost changed since): an unknown email still takes as long as a wrong
/// password, because the dummy hash has the cost most stored hashes have (read at start). A
/// right password rehashes the account's hash at the configured cost.
#[tokio::test]
async fn with_stored_hashes_of_another_cost_unknown_emails_still_take_as_long() {
    let config = [("BCRYPT_COST", "6"), ("LOGIN_MAX_FAILURES", "0")];
    let app = spawn_app_with(&config).await;
    // Three accounts whose hashes have cost 10 (16 times the work of cost 6), written into
    // the database directly as an adopted database would hold them.
    let adopted = bcrypt::hash(PASSWORD, 10).unwrap();
    let mut emails = Vec::new();
    for name in ["ann", "bob", "cat"] {
        let user = app.user(name).await;
        app.db
            .execute_unprepared(&format!(
                "UPDATE users SET password = '{adopted}' WHERE id = {}",
                user.id
            ))
            .await
            .unwrap();
        emails.push(user.email);
    }
    // A server started on that database now, as after the adoption.
    let server = serve(&app.database_url, &config).await;
    let login = |email: &str, password: &str| {
        app.client
            .post(format!("{}/login", server.address))
            .form(&[("username", email), ("password", password)])
            .send()
    };
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for n in 0..11 {
        let started = std::time::Instant::now();
        let res = login(&format!("nobody{n}@example.com"), PASSWORD)
            .await
            .unwrap();
        unknown.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let started = std::time::Instant::now();
        let res = login(&emails[n % 3], "wrong password").await.unwrap();
        wrong.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    unknown.sort();
    wrong.sort();
    let (u, w) = (unknown[5].as_secs_f64(), wrong[5].as_secs_f64());
    // With the dummy hash at cost 6 an unknown email would answer about 16 times sooner.
    assert!(
        u / w > 0.5 && u / w < 2.0,
        "medians: unknown {u:.4}s, wrong {w:.4}s"
    );

    // The right password: accepted, and the hash is now of cost 6.
    let res = login(&emails[0], PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stored = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            format!("SELECT password FROM users WHERE email = '{}'", emails[0]),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "password")
        .unwrap();
    assert!(
        stored.starts_with("$2b$06$"),
        "rehashed at cost 6: {stored}"
    );
    assert!(bcrypt::verify(PASSWORD, &stored).unwrap());
    let res = login(&emails[0], PASSWORD).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the new hash is the password's"
    );
}

#[tokio::test]
async fn a_login_flood_does_not_hold_up_other_routes() {
    // One hash at a time, at a real cost: twenty logins queue for a while.
    let app = spawn_app_with(&[
        ("BCRYPT_COST", "10"),
        ("BCRYPT_CONCURRENCY", "1"),
        ("LOGIN_MAX_FAILURES", "0"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "0"),
    ])
    .await;
    let ann = app.user("ann").await;
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let req = app.client.post(app.url("/login")).form(&[
            ("username", ann.email.as_str()),
            ("password", "wrong password"),
        ]);
        flood.spawn(async move { req.send().await.map(|r| r.status()) });
    }
    // While the logins queue, reads are answered: each completes before the flood does.
    for _ in 0..5 {
        let res = app.list_posts(&ann, &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    while let Some(done) = flood.try_join_next() {
        assert_eq!(done.unwrap().unwrap(), StatusCode::FORBIDDEN);
    }
    assert!(
        !flood.is_empty(),
        "the reads should have finished while logins were still queued"
    );
    for status in flood.join_all().await {
        assert_eq!(status.unwrap(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn hostile_query_strings_are_422_never_500() {
    let app = spawn_app_with(&[]).await;
    let ann = app.user("ann").await;
    let long = "x".repeat(10 * 1024);
    let cases = [
        ("negative limit", "limit=-1".to_owned(), "limit"),
        (
            "huge limit",
            "limit=99999999999999999999999".to_owned(),
            "limit",
        ),
        ("exponent", "limit=1e3".to_owned(), "limit"),
        ("letters", "skip=abc".to_owned(), "skip"),
        ("negative skip", "skip=-5".to_owned(), "skip"),
        (
            "huge skip",
            "skip=99999999999999999999999".to_owned(),
            "skip",
        ),
        ("repeated, last bad", "limit=5&limit=x".to_owned(), "limit"),
        ("NUL in search", "search=a%00b".to_owned(), "search"),
        ("10 KB search", format!("search={long}"), "search"),
    ];
    for (case, query, field) in cases {
        let res = app.get(&format!("/posts/?{query}"), Some(&ann.token)).await;
        let status = res.status().as_u16();
        let body = json_of(res).await;
        assert_eq!(status, 422, "{case}: {body}");
        assert_eq!(
            body["detail"][0]["loc"],
            json!(["query", field]),
            "{case}: {body}"
        );
    }
    for ok in [
        "limit=5&limit=7",
        "skip=9223372036854775807",
        "search=%25_%5C",
    ] {
        let res = app.get(&format!("/posts/?{ok}"), Some(&ann.token)).await;
        assert_eq!(res.status(), StatusCode::OK, "{ok}");
    }
}

/// The failed-login counts stay bounded however many usernames are tried: they live in the
/// database, not in the process, and counts whose window started over a day ago (the longest
/// any throttle's window may be) are swept as failures come in, every 256th failure a process
/// records.
#[tokio::test]
async fn failed_login_counts_are_swept_once_a_day_old() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES_PER_CLIENT", "0")]).await;
    // A thousand counts from long ago, as a flood of made-up usernames would have left.
    let stale: Vec<String> = (0..1000)
        .map(|n| format!("('account', 'stale{n}@example.com', 1, '2001-01-01 00:00:00+00:00')"))
        .collect();
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO login_failures (scope, subject, failures, window_start) VALUES {}",
            stale.join(", ")
        ))
        .await
        .unwrap();
    let count = async |filter: &str| {
        app.db
            .query_one_raw(Statement::from_string(
                app.backend(),
                format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM login_failures {filter}"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
    };
    assert_eq!(count("WHERE subject LIKE 'stale%'").await, 1000);
    // 255 failures: no sweep yet; the 256th sweeps.
    for n in 0..256 {
        if n == 255 {
            assert_eq!(
                count("WHERE subject LIKE 'stale%'").await,
                1000,
                "swept too soon"
            );
        }
        let res = app
            .login(&format!("guess{n}@example.com"), "wrong password")
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        count("WHERE subject LIKE 'stale%'").await,
        0,
        "the old counts are swept"
    );
    // What is left: the 256 failures' own counts, per account and per account-and-client pair.
    assert!(count("").await <= 2 * 256);
}
