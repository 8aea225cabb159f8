//! The query of `GET /posts/`: [`ListParams`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use service::domain::{PageSize, SearchTerm, Skip};
use service::posts::ListQuery;

use crate::error::{ApiError, FieldError};

/// `GET /posts/` query: `limit` (a [`PageSize`]), `skip` (a [`Skip`]), `search` (a
/// [`SearchTerm`]). Unknown parameters are ignored; a repeated one counts by its last value.
pub struct ListParams(pub ListQuery);

impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(list_params(req.query_string()))
    }
}

fn list_params(query: &str) -> Result<ListParams, ApiError> {
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
    match (limit, skip, search) {
        (Some(limit), Some(skip), Some(search)) => Ok(ListParams(ListQuery {
            limit,
            skip,
            search,
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
