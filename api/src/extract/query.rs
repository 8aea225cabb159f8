//! The query of `GET /posts/`: [`ListParams`].

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use service::domain::{PageSize, SearchTerm, Skip};
use service::posts::ListQuery;

use crate::cursor::CursorKey;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// `GET /posts/` query: `limit` (a [`PageSize`]), `skip` (a [`Skip`]), `search` (a
/// [`SearchTerm`]), `cursor` (one of the list's own, for the same search; not with `skip`).
/// Unknown parameters are ignored; a repeated one counts by its last value.
pub struct ListParams(pub ListQuery);

impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<Data<AppState>>() else {
            return std::future::ready(Err(service::Error::Internal(
                "application state missing".into(),
            )
            .into()));
        };
        std::future::ready(list_params(req.query_string(), &state.cursors))
    }
}

/// The one refusal of a `cursor`, whatever is wrong with it: a client can only hand back one
/// it was given, with the search it was given for.
pub const BAD_CURSOR: &str = "Value error, the cursor is invalid, or was made for another search";
/// `cursor` and `skip` together.
pub const CURSOR_WITH_SKIP: &str = "Value error, cursor and skip cannot be used together";

fn list_params(query: &str, cursors: &CursorKey) -> Result<ListParams, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let last = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    let at = |name: &'static str| move || super::loc("query", name);
    let mut errors = Vec::new();
    let limit = last("limit").map_or(Ok(PageSize::DEFAULT), |raw| {
        super::int_then(raw, at("limit"), PageSize::parse)
    });
    let limit = keep(&mut errors, limit);
    let skip = last("skip").map_or(Ok(Skip::default()), |raw| {
        super::int_then(raw, at("skip"), Skip::parse)
    });
    let skip = keep(&mut errors, skip);
    let search = SearchTerm::parse(last("search").cloned().unwrap_or_default())
        .map_err(|invalid| FieldError::invalid(at("search")(), invalid));
    let search = keep(&mut errors, search);
    let cursor = last("cursor").map(|raw| {
        let refuse = |msg| FieldError::new(at("cursor")(), "value_error", msg);
        if last("skip").is_some() {
            return Err(refuse(CURSOR_WITH_SKIP));
        }
        let search = search.as_ref().map_or("", SearchTerm::as_str);
        cursors.open(raw, search).ok_or_else(|| refuse(BAD_CURSOR))
    });
    let keyset = match cursor {
        None => Some(None),
        Some(checked) => keep(&mut errors, checked).map(Some),
    };
    match (limit, skip, search, keyset) {
        (Some(limit), Some(skip), Some(search), Some(keyset)) => Ok(ListParams(ListQuery {
            limit,
            skip,
            search,
            keyset,
        })),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// The value, or `None` with its refusal added to `errors`.
fn keep<T>(errors: &mut Vec<FieldError>, checked: Result<T, FieldError>) -> Option<T> {
    checked.map_err(|e| errors.push(e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use service::posts::Keyset;

    fn list_params(query: &str) -> Result<ListParams, ApiError> {
        super::list_params(query, &CursorKey::derive("test"))
    }

    #[test]
    fn a_cursor_is_taken_with_its_own_search_only_and_never_with_skip() {
        let key = CursorKey::derive("test");
        let cursor = key.seal(Keyset::Older(9), "a b");
        let p = list_params(&format!("cursor={cursor}&search=a+b"))
            .ok()
            .unwrap()
            .0;
        assert_eq!(p.keyset, Some(Keyset::Older(9)));
        for bad in [
            format!("cursor={cursor}"),
            format!("cursor={cursor}&search=a+b&skip=0"),
            "cursor=".to_owned(),
            "cursor=abc&search=a+b".to_owned(),
        ] {
            assert!(list_params(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_params_default_and_bounds() {
        let p = list_params("").ok().unwrap().0;
        assert_eq!(
            (p.limit.get(), p.skip.get(), p.search.as_str()),
            (10, 0, "")
        );
        let p = list_params("limit=100&skip=5&search=a%25b&limit=0")
            .ok()
            .unwrap()
            .0;
        assert_eq!(
            (p.limit.get(), p.skip.get(), p.search.as_str()),
            (0, 5, "a%b")
        );
        for bad in [
            "limit=101",
            "limit=-1",
            "skip=-1",
            "limit=abc",
            "limit=1e3",
            "skip=1.5",
        ] {
            assert!(list_params(bad).is_err(), "{bad}");
        }
    }
}
