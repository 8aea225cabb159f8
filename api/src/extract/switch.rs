//! Routes that a setting turns off: [`RecoveryOn`] and [`VerificationOn`] refuse with 404 and
//! their own `detail` before anything else about the request is read, so that a route that is
//! off answers the same whatever its body.

use std::future::{Ready, ready};

use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};

use crate::error::ApiError;
use crate::state::AppState;

/// Password recovery is on (`PASSWORD_RECOVERY`); else 404 `password recovery is disabled`.
pub struct RecoveryOn;

/// Email verification is on (`REQUIRE_EMAIL_VERIFICATION`); else 404 `email verification is
/// disabled`.
pub struct VerificationOn;

fn state(req: &HttpRequest) -> Result<&Data<AppState>, ApiError> {
    req.app_data::<Data<AppState>>()
        .ok_or_else(|| service::Error::Internal("application state missing".into()).into())
}

impl FromRequest for RecoveryOn {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(req).and_then(|s| {
            if s.account_mail.recovery_enabled() {
                Ok(RecoveryOn)
            } else {
                Err(service::Error::RecoveryDisabled.into())
            }
        }))
    }
}

impl FromRequest for VerificationOn {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(req).and_then(|s| {
            if s.account_mail.verification_required() {
                Ok(VerificationOn)
            } else {
                Err(service::Error::VerificationDisabled.into())
            }
        }))
    }
}
