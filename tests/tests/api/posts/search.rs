//! `GET /posts/?search=`: a literal, case-insensitive substring of the title, the same on
//! both databases, that never reveals another user's drafts.

use serde_json::json;
use tests::spawn_app;

use super::{list, titles};

#[tokio::test]
async fn search_is_a_literal_case_insensitive_substring_of_the_title() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    for title in [
        "100% sure",
        "1000 sure",
        "a_b",
        "axb",
        "back\\slash",
        "backslash",
        "MiXeD Case",
        "plain",
        "a*b?",
        "1.5 (x) [ok] ^caret$ {2} a|b +",
    ] {
        app.post(&ann, title, true).await;
    }
    // Content is not searched.
    app.create_post(
        &ann,
        &json!({"title": "unrelated", "content": "mixed case 100% a_b"}),
    )
    .await;
    let meta = "1.5 (x) [ok] ^caret$ {2} a|b +";
    let all = [
        "a*b?",
        meta,
        "1000 sure",
        "100% sure",
        "MiXeD Case",
        "a_b",
        "axb",
        "back\\slash",
        "backslash",
        "plain",
        "unrelated",
    ];
    let cases: [(&str, &[&str]); 31] = [
        ("*", &["a*b?"]),
        ("a*", &["a*b?"]),
        ("?", &["a*b?"]),
        ("b?", &["a*b?"]),
        ("1.5", &[meta]),
        (".", &[meta]),
        ("(x)", &[meta]),
        ("[ok]", &[meta]),
        ("[", &[meta]),
        ("^CARET$", &[meta]),
        ("{2}", &[meta]),
        ("a|b", &[meta]),
        ("+", &[meta]),
        ("%", &["100% sure"]),
        ("0%", &["100% sure"]),
        ("0% s", &["100% sure"]),
        ("%%", &[]),
        ("_", &["a_b"]),
        ("a_b", &["a_b"]),
        ("a_", &["a_b"]),
        ("\\", &["back\\slash"]),
        ("k\\s", &["back\\slash"]),
        ("\\\\", &[]),
        ("mixed case", &["MiXeD Case"]),
        ("MIXED", &["MiXeD Case"]),
        ("xEd c", &["MiXeD Case"]),
        ("Sure", &["1000 sure", "100% sure"]),
        ("SLASH", &["back\\slash", "backslash"]),
        ("nothing like it", &[]),
        ("", &all),
        ("[a-z]", &[]),
    ];
    for (term, want) in cases {
        let got = titles(&list(&app, &bob, &[("search", term), ("limit", "100")]).await);
        let mut want = want.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "search {term:?}");
    }
    let got = titles(&list(&app, &bob, &[("search", "sure"), ("limit", "1")]).await);
    assert_eq!(got, ["1000 sure"], "search pages newest first too");
}

#[tokio::test]
async fn search_does_not_reveal_other_users_drafts() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    app.post(&ann, "secret plan", false).await;
    app.post(&bob, "public plan", true).await;
    let bob_sees = titles(&list(&app, &bob, &[("search", "plan")]).await);
    assert_eq!(bob_sees, ["public plan"]);
    let ann_sees = titles(&list(&app, &ann, &[("search", "plan")]).await);
    assert_eq!(ann_sees, ["public plan", "secret plan"]);
}

#[tokio::test]
async fn search_ignores_case_beyond_ascii_identically_on_both_databases() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    // U+212A KELVIN SIGN and U+0130 (capital I with a dot) lower-case to ASCII in Unicode
    // (and in some locales), yet are neither "k" nor "i" in either case.
    for title in [
        "Élan vital",
        "élan",
        "ÀB",
        "Straße",
        "Ωmega",
        "\u{212A}elvin",
        "İstanbul",
    ] {
        app.post(&ann, title, true).await;
    }
    let cases: [(&str, &[&str]); 13] = [
        ("élan", &["Élan vital", "élan"]),
        ("ÉLAN", &["Élan vital", "élan"]),
        ("É", &["Élan vital", "élan"]),
        ("àb", &["ÀB"]),
        ("straße", &["Straße"]),
        ("ωMEGA", &["Ωmega"]),
        // Literal: accents are not ignored, only case.
        ("e", &["Straße", "Ωmega", "\u{212A}elvin"]),
        ("elan", &[]),
        ("ss", &[]),
        ("kelvin", &[]),
        ("ELVIN", &["\u{212A}elvin"]),
        ("istanbul", &[]),
        ("İSTANBUL", &["İstanbul"]),
    ];
    for (term, want) in cases {
        let got = titles(&list(&app, &ann, &[("search", term)]).await);
        let mut want = want.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "search {term:?} on {:?}", app.backend());
    }
}
