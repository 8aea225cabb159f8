//! The bodies of what hangs on the account's address: password recovery, email verification,
//! and the email change (`PATCH /users/me`).

use serde::Serialize;
use service::domain::{Email, Password};
use utoipa::ToSchema;

use crate::extract::{Fields, FromJson};

/// An address to mail: `POST /password-recovery`, `POST /users/verify/resend`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ann@example.com"}))]
pub struct MailRequest {
    /// Compared case-insensitively with the registered addresses.
    #[schema(value_type = String, format = "email", max_length = 254, pattern = "^[^\\u0000]*$")]
    pub email: Email,
}

impl FromJson for MailRequest {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let email = f
            .str("email")
            .and_then(|e| f.check("email", Email::parse(&e)));
        Some(MailRequest { email: email? })
    }
}

/// A new password, with the reset token that was mailed: `POST /reset-password`.
#[derive(ToSchema)]
#[schema(example = json!({"token": "mQ2xR0Fh8v1w6d3Yk9zT4pLcS7aNbE5uJgHiVoWqXyA", "new_password": "battery staple"}))]
pub struct PasswordReset {
    /// The token from the mail, as it stands there (43 characters).
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    pub token: String,
    /// 8 to 72 bytes of UTF-8, as at registration.
    #[schema(
        value_type = String,
        min_length = 8,
        max_length = 72,
        format = Password,
        pattern = "^[^\\u0000]*$"
    )]
    pub new_password: Password,
}

impl FromJson for PasswordReset {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let token = f.str("token");
        let new = f
            .str("new_password")
            .and_then(|p| f.check("new_password", Password::parse(p)));
        Some(PasswordReset {
            token: token?,
            new_password: new?,
        })
    }
}

/// The verification token that was mailed: `POST /users/verify`.
#[derive(ToSchema)]
#[schema(example = json!({"token": "mQ2xR0Fh8v1w6d3Yk9zT4pLcS7aNbE5uJgHiVoWqXyA"}))]
pub struct EmailVerification {
    /// The token from the mail, as it stands there (43 characters).
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    pub token: String,
}

impl FromJson for EmailVerification {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        Some(EmailVerification {
            token: f.str("token")?,
        })
    }
}

/// A new address for the caller, confirmed by the current password: `PATCH /users/me`.
#[derive(ToSchema)]
#[schema(example = json!({"email": "ann.new@example.com", "current_password": "correct horse"}))]
pub struct UserUpdate {
    /// Trimmed and lower-cased before it is stored; unique case-insensitively.
    #[schema(value_type = String, format = "email", max_length = 254, pattern = "^[^\\u0000]*$")]
    pub email: Email,
    /// The password now.
    #[schema(value_type = String, min_length = 1, format = Password, pattern = "^[^\\u0000]*$")]
    pub current_password: String,
}

impl FromJson for UserUpdate {
    fn from_json(f: &mut Fields<'_>) -> Option<Self> {
        let email = f
            .str("email")
            .and_then(|e| f.check("email", Email::parse(&e)));
        let current = f.str("current_password");
        Some(UserUpdate {
            email: email?,
            current_password: current?,
        })
    }
}

/// A mail request was taken: the same answer whether or not the address is registered.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "if the address is registered, a reset token is on its way"}))]
pub struct Accepted {
    pub detail: &'static str,
}
