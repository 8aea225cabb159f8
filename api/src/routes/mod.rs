//! The handlers, one module per tag. Each extracts, calls one service function and maps the
//! result; rules and queries live in `service`.

use utoipa_actix_web::service_config::ServiceConfig;

mod auth;
mod email;
mod health;
mod posts;
mod sessions;
mod users;
mod votes;

/// Registers every documented route. Order matters where paths overlap: `/users/me` and
/// `/posts/latest` come before their `{id}` siblings. Otherwise the busiest routes come first:
/// actix tries each route's path in turn, and a path with a parameter is a regular expression
/// to run, so `GET /posts/{id}` placed after `/users/{id}` and `/users/me/sessions/{id}` ran
/// three for every read of a post; first, it runs one.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(posts::list_posts)
        .service(posts::latest_post)
        .service(posts::create_post)
        .service(posts::get_post)
        .service(posts::replace_post)
        .service(posts::patch_post)
        .service(posts::delete_post)
        .service(votes::vote)
        .service(auth::login)
        .service(users::create_user)
        .service(users::me)
        .service(health::root)
        .service(health::health)
        .service(health::ready)
        .service(users::change_password)
        .service(users::delete_me)
        .service(email::update_me)
        .service(email::verify_email)
        .service(email::resend_verification)
        .service(sessions::list_sessions)
        .service(sessions::end_all_sessions)
        .service(sessions::end_session)
        .service(users::get_user)
        .service(auth::logout)
        .service(auth::logout_all)
        .service(email::request_password_recovery)
        .service(email::reset_password);
}
