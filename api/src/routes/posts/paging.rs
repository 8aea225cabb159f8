//! The list's paging headers: the `Link` header with its cursors (RFC 8288), and whether the
//! client asked for the total count (`Prefer: count=exact`, RFC 7240).

use actix_web::HttpRequest;
use service::posts::{Keyset, ListQuery, Page};

use crate::state::AppState;

/// The `Link` header of a page: `next` and `prev` cursors where the list goes on. None for a
/// page of 0 posts by `skip` (nothing to go on from) or with `limit=0` (no page ever moves).
pub(super) fn link(state: &AppState, path: &str, query: &ListQuery, page: &Page) -> Option<String> {
    let limit = query.limit.get();
    if limit == 0 {
        return None;
    }
    let search = query.search.as_str();
    let (first, last) = match (page.posts.first(), page.posts.last(), query.keyset) {
        (Some(first), Some(last), _) => (first.post.id, last.post.id),
        // An empty page past a cursor: the boundary is where the list would go on.
        (None, None, Some(Keyset::Older(b))) => (b.saturating_sub(1), b),
        (None, None, Some(Keyset::Newer(b))) => (b, b.saturating_add(1)),
        _ => return None,
    };
    let url = |keyset| {
        let cursor = state.cursors.seal(keyset, search);
        let limit = limit.to_string();
        let mut pairs = vec![("cursor", cursor.as_str()), ("limit", limit.as_str())];
        if !search.is_empty() {
            pairs.push(("search", search));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("<{path}?{query}>")
    };
    let mut links = Vec::with_capacity(2);
    if page.more_older {
        links.push(format!("{}; rel=\"next\"", url(Keyset::Older(last))));
    }
    if page.more_newer {
        links.push(format!("{}; rel=\"prev\"", url(Keyset::Newer(first))));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// Whether the request's `Prefer` header (RFC 7240) holds `count=exact`.
pub(super) fn wants_count(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|pref| pref.split(';').next())
        .any(|pref| {
            let (name, value) = pref.split_once('=').unwrap_or((pref, ""));
            name.trim().eq_ignore_ascii_case("count")
                && value.trim().trim_matches('"').eq_ignore_ascii_case("exact")
        })
}
