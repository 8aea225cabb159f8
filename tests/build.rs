//! Sets the `test_postgres` cfg when `TEST_DATABASE_URL` is set, so that the tests that only
//! mean something on PostgreSQL are compiled as ignored on SQLite (listed as such by the test
//! runner) instead of passing without checking anything.

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(test_postgres)");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
