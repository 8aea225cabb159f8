//! Form bodies (the login's): [`Form`] reads one, urlencoded or multipart, and hands its
//! fields to a DTO's [`FromForm`] through [`FormFields`], which records every problem.

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use service::domain::Invalid;

use super::body::{body_error, media_type, read_body};
use crate::error::{ApiError, FieldError};

/// A body read from a form: its DTO reads each field through [`FormFields`].
pub trait FromForm: Sized {
    /// `None` when any field was refused; each refusal is recorded in `fields`.
    fn from_form(fields: &mut FormFields) -> Option<Self>;
}

/// The text fields of a form, and the problems found so far.
pub struct FormFields {
    pairs: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl FormFields {
    /// A field's value. As FastAPI reads forms: a repeated field counts by its last value,
    /// an empty one counts as missing.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A text field that must be there, with no NUL in it.
    pub fn text(&mut self, name: &str) -> Option<String> {
        let refused = match self.get(name) {
            None => FieldError::missing(super::loc("body", name)),
            Some(v) if v.contains('\0') => {
                FieldError::invalid(super::loc("body", name), Invalid::Nul)
            }
            Some(v) => return Some(v.to_owned()),
        };
        self.errors.push(refused);
        None
    }

    /// Records a problem the DTO found itself.
    pub fn refuse(&mut self, error: FieldError) {
        self.errors.push(error);
    }
}

/// A form body, urlencoded or multipart, read into `T` (422 with every problem otherwise).
pub struct Form<T>(pub T);

impl<T: FromForm + 'static> FromRequest for Form<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let pairs = match media_type(&req).as_deref() {
                Some("multipart/form-data") => read_multipart(&req, payload).await?,
                Some("application/x-www-form-urlencoded") => {
                    let body = read_body(&req, &mut payload).await?;
                    serde_urlencoded::from_bytes(&body).unwrap_or_default()
                }
                // Anything else (JSON included) carries no form fields: each required one is
                // reported missing, as FastAPI does.
                _ => {
                    read_body(&req, &mut payload).await?;
                    Vec::new()
                }
            };
            from_pairs(pairs).map(Form)
        })
    }
}

fn from_pairs<T: FromForm>(pairs: Vec<(String, String)>) -> Result<T, ApiError> {
    let mut fields = FormFields {
        pairs,
        errors: Vec::new(),
    };
    match T::from_form(&mut fields) {
        Some(v) if fields.errors.is_empty() => Ok(v),
        _ => Err(ApiError::Validation(fields.errors)),
    }
}

/// The text fields of a multipart form. The whole body is read first, through the same
/// 64 KiB limit as every other body (boundaries and part headers count too).
async fn read_multipart(
    req: &HttpRequest,
    mut payload: Payload,
) -> Result<Vec<(String, String)>, ApiError> {
    let body = read_body(req, &mut payload).await?.freeze();
    // A malformed form (no boundary, broken framing) is wrong input like any other: 422.
    let malformed = |_| body_error("value_error", "Value error, invalid multipart form data");
    let whole = futures_util::stream::once(std::future::ready(Ok(body)));
    let mut form = Multipart::new(req.headers(), whole);
    let mut fields = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(malformed)?);
        }
        fields.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{Grant, LoginForm};
    use crate::error::Loc;

    fn login(pairs: &[(&str, &str)]) -> Result<LoginForm, Vec<FieldError>> {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        match from_pairs(pairs) {
            Ok(form) => Ok(form),
            Err(ApiError::Validation(errors)) => Err(errors),
            Err(other) => panic!("not a validation error: {other}"),
        }
    }

    fn kinds(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn login_form_reports_every_problem() {
        let errors = login(&[]).err().unwrap();
        assert_eq!(kinds(&errors), ["missing", "missing"]);
        let errors = login(&[("username", ""), ("password", "a\0"), ("grant_type", "x")])
            .err()
            .unwrap();
        assert_eq!(
            kinds(&errors),
            [
                "string_pattern_mismatch",
                "missing",
                "string_pattern_mismatch"
            ]
        );
    }

    #[test]
    fn the_refresh_grant_needs_only_its_token() {
        let form = login(&[("grant_type", "refresh_token"), ("refresh_token", "abc")])
            .ok()
            .unwrap();
        assert!(matches!(form.grant, Grant::Refresh(t) if t == "abc"));
        let errors = login(&[("grant_type", "refresh_token"), ("username", "a@b.c")])
            .err()
            .unwrap();
        assert_eq!(kinds(&errors), ["missing"]);
        assert!(
            matches!(&errors[0].loc[..], [Loc::Key(b), Loc::Key(f)] if b == "body" && f == "refresh_token")
        );
    }

    #[test]
    fn a_field_the_grant_ignores_still_refuses_a_nul() {
        let errors = login(&[
            ("username", "a@b.c"),
            ("password", "pw"),
            ("refresh_token", "x\0"),
        ])
        .err()
        .unwrap();
        assert_eq!(kinds(&errors), ["string_pattern_mismatch"]);
        let errors = login(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "t"),
            ("username", "\0"),
        ])
        .err()
        .unwrap();
        assert_eq!(kinds(&errors), ["string_pattern_mismatch"]);
    }

    #[test]
    fn login_form_takes_the_last_of_a_repeated_field() {
        let form = login(&[
            ("username", "a@b.c"),
            ("password", "first"),
            ("password", "second"),
            ("grant_type", "password"),
        ])
        .ok()
        .unwrap();
        let Grant::Password { username, password } = form.grant else {
            panic!("a password grant");
        };
        assert_eq!((username.as_str(), password.as_str()), ("a@b.c", "second"));
    }
}
