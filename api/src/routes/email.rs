//! What hangs on the account's address: password recovery, email verification, and changing
//! the address (`PATCH /users/me`). The two mail requests answer 202 with the same body
//! whether or not the address is registered; the mail goes out afterwards.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, http::header, patch, post};
use service::accounts::Confirmation;
use service::auth::Caller;
use service::email::EmailChange;

use super::auth::client;
use crate::dto::{
    Accepted, EmailVerification, ErrorBody, MailRequest, PasswordReset, UserOut, UserUpdate,
    ValidationErrorBody,
};
use crate::error::ApiError;
use crate::extract::{Authed, JsonBody, RecoveryOn, VerificationOn};
use crate::state::AppState;

const RESET_ON_ITS_WAY: &str = "if the address is registered, a reset token is on its way";
const VERIFICATION_ON_ITS_WAY: &str =
    "if the address is registered and not verified yet, a verification token is on its way";

fn accepted(detail: &'static str) -> HttpResponse {
    HttpResponse::Accepted().json(Accepted { detail })
}

/// Mails a password-reset token to the address, if an account has it. The answer is the same,
/// in the same time, whether or not one does. A new request replaces the previous token.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "request_password_recovery",
    request_body = MailRequest,
    responses(
        (status = 202, description = "Taken: a token is mailed if the address is registered", body = Accepted,
            example = json!({"detail": "if the address is registered, a reset token is on its way"})),
        (status = 404, description = "password recovery is disabled", body = ErrorBody,
            example = json!({"detail": "password recovery is disabled"})),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many requests: for this address or from this client", body = ErrorBody,
            example = json!({"detail": "too many requests"})),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/password-recovery")]
pub(super) async fn request_password_recovery(
    _: RecoveryOn,
    state: Data<AppState>,
    http: HttpRequest,
    body: JsonBody<MailRequest>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(body) = body;
    service::email::request_reset(
        &state.db,
        &state.account_mail,
        &state.mail_throttles,
        &body.email,
        client(&http),
    )
    .await?;
    Ok(accepted(RESET_ON_ITS_WAY))
}

/// Sets a new password with the token that was mailed; the token works once. Every session of
/// the account ends, and every token issued before is refused.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "reset_password",
    request_body = PasswordReset,
    responses(
        (status = 204, description = "The password is changed; log in with it"),
        (status = 400, description = "invalid or expired token: unknown, expired, or used already", body = ErrorBody,
            example = json!({"detail": "invalid or expired token"})),
        (status = 404, description = "password recovery is disabled", body = ErrorBody,
            example = json!({"detail": "password recovery is disabled"})),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many requests: too many refused tokens from this client", body = ErrorBody,
            example = json!({"detail": "too many requests"})),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/reset-password")]
pub(super) async fn reset_password(
    _: RecoveryOn,
    state: Data<AppState>,
    http: HttpRequest,
    body: JsonBody<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(body) = body;
    service::email::reset_password(
        &state.db,
        &state.auth,
        &state.account_mail,
        &state.mail_throttles,
        &body.token,
        &body.new_password,
        client(&http),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks the address verified with the token that was mailed to it, as long as the account
/// still has that address; the token works once.
#[utoipa::path(
    tag = "Users",
    operation_id = "verify_email",
    request_body = EmailVerification,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, description = "invalid or expired token: unknown, expired, used already, or sent to an address the account no longer has", body = ErrorBody,
            example = json!({"detail": "invalid or expired token"})),
        (status = 404, description = "email verification is disabled", body = ErrorBody,
            example = json!({"detail": "email verification is disabled"})),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many requests: too many refused tokens from this client", body = ErrorBody,
            example = json!({"detail": "too many requests"})),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/users/verify")]
pub(super) async fn verify_email(
    _: VerificationOn,
    state: Data<AppState>,
    http: HttpRequest,
    body: JsonBody<EmailVerification>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(body) = body;
    service::email::verify_email(
        &state.db,
        &state.account_mail,
        &state.mail_throttles,
        &body.token,
        client(&http),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mails a new verification token to the address, if an account has it and it is not
/// verified yet. The answer is the same whatever the address.
#[utoipa::path(
    tag = "Users",
    operation_id = "resend_verification",
    request_body = MailRequest,
    responses(
        (status = 202, description = "Taken: a token is mailed if the address is registered and not verified", body = Accepted,
            example = json!({"detail": "if the address is registered and not verified yet, a verification token is on its way"})),
        (status = 404, description = "email verification is disabled", body = ErrorBody,
            example = json!({"detail": "email verification is disabled"})),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many requests: for this address or from this client", body = ErrorBody,
            example = json!({"detail": "too many requests"})),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/users/verify/resend")]
pub(super) async fn resend_verification(
    _: VerificationOn,
    state: Data<AppState>,
    http: HttpRequest,
    body: JsonBody<MailRequest>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(body) = body;
    service::email::resend_verification(
        &state.db,
        &state.account_mail,
        &state.mail_throttles,
        &body.email,
        client(&http),
    )
    .await?;
    Ok(accepted(VERIFICATION_ON_ITS_WAY))
}

/// Changes the caller's email, confirmed by the current password. While verification is
/// required the new address is unverified until its mailed token is presented. A wrong
/// password counts as a failed login.
#[utoipa::path(
    tag = "Users",
    operation_id = "update_current_user",
    request_body = UserUpdate,
    responses(
        (status = 200, description = "Changed: the caller, with the new address", body = UserOut,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Invalid Credentials: the current password is wrong", body = ErrorBody,
            example = json!({"detail": "Invalid Credentials"})),
        (status = 409, description = "email already registered", body = ErrorBody,
            example = json!({"detail": "email already registered"})),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many login attempts", body = ErrorBody,
            example = json!({"detail": "too many login attempts"})),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[patch("/users/me")]
pub(super) async fn update_me(
    state: Data<AppState>,
    http: HttpRequest,
    req: Authed<JsonBody<UserUpdate>>,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, JsonBody(body)) = req;
    let change = EmailChange {
        email: body.email,
        confirmation: Confirmation {
            user: &user,
            password: &body.current_password,
            client: client(&http),
        },
    };
    let user = service::email::change_email(
        &state.db,
        &state.auth,
        &state.account_mail,
        &state.login_throttle,
        change,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserOut::from(user)))
}
