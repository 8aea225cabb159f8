//! What start-up learns about paths from the OpenAPI document, so that no second list of them
//! is kept by hand: the methods each path answers (to tell 404 from 405, with `Allow`) and
//! each path's canonical spelling (collections with a trailing slash, the rest without).
//! Both are worked out once; a request costs string comparisons, never route matching.

use actix_web::http::Uri;
use utoipa::openapi::OpenApi as Document;

use crate::docs::{OPENAPI_PATH, REDOC_BUNDLE_PATH, REDOC_PATH};
use crate::metrics;

/// The documentation routes served beside the document's (all `GET`). Their spelling is ours.
const DOCS_ROUTES: [&str; 3] = [OPENAPI_PATH, REDOC_PATH, REDOC_BUNDLE_PATH];

/// `GET` routes whose spelling belongs to the crate serving them, so never rewritten: Swagger
/// UI's (`/docs` redirects to `/docs/`, the address it expects) and actix-web-prom's.
const FOREIGN_ROUTES: [&str; 4] = ["/docs", "/docs/", "/docs/{file}", metrics::PATH];

/// Paths and the methods each one answers, for telling 404 from 405.
#[derive(Debug)]
pub(super) struct RouteTable(Vec<(Vec<String>, String)>);

impl RouteTable {
    /// From the document, plus the documentation and metrics routes.
    pub(super) fn new(api: &Document) -> Self {
        let documented = api.paths.paths.iter().map(|(path, item)| {
            let methods: Vec<&str> = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, has)| has.then_some(m))
            .collect();
            (segments(path), methods.join(", "))
        });
        let served = DOCS_ROUTES
            .into_iter()
            .chain(FOREIGN_ROUTES)
            .map(|path| (segments(path), "GET".to_owned()));
        RouteTable(documented.chain(served).collect())
    }

    /// The `Allow` value for `path` if some route has it.
    pub(super) fn allowed(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(pattern, _)| {
                let mut wanted = path.split('/').skip(1);
                pattern.iter().all(|p| {
                    wanted
                        .next()
                        .is_some_and(|w| p == w || (p.starts_with('{') && !w.is_empty()))
                }) && wanted.next().is_none()
            })
            .map(|(_, allow)| allow.as_str())
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(str::to_owned).collect()
}

/// The canonical spelling of the paths the API owns.
#[derive(Debug)]
pub(super) struct CanonicalPaths {
    /// The first segments of our paths (`users`, `login`, `openapi.json`, ...); the root has
    /// only one spelling and is not among them.
    owned: Box<[Box<str>]>,
    /// The collections, whose patterns end in `/`, without it (`/posts`).
    collections: Box<[Box<str>]>,
}

impl CanonicalPaths {
    /// From the document's paths and the documentation routes.
    pub(super) fn new(api: &Document) -> Self {
        let ours = || {
            api.paths
                .paths
                .keys()
                .map(String::as_str)
                .chain(DOCS_ROUTES)
        };
        let mut owned: Vec<Box<str>> = ours()
            .filter_map(|path| path.split('/').nth(1))
            .filter(|first| !first.is_empty())
            .map(Box::from)
            .collect();
        owned.sort_unstable();
        owned.dedup();
        let collections = ours()
            .filter(|path| path.len() > 1 && path.ends_with('/'))
            .map(|path| Box::from(path.trim_end_matches('/')))
            .collect();
        Self {
            owned: owned.into(),
            collections,
        }
    }

    /// `uri` spelled canonically (`/posts` → `/posts/`, `/posts/1/` → `/posts/1`, the query
    /// kept); `None` when it is canonical already or not a path of ours.
    pub(super) fn canonical(&self, uri: &Uri) -> Option<Uri> {
        let path = uri.path();
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if !self.owned.iter().any(|owned| **owned == *first) {
            return None;
        }
        let trimmed = path.trim_end_matches('/');
        let slash = if self.collections.iter().any(|c| **c == *trimmed) {
            "/"
        } else {
            ""
        };
        // `path` is `trimmed` and some slashes: compared by length, a canonical path (nearly
        // every request) costs no allocation.
        if path.len() == trimmed.len() + slash.len() {
            return None;
        }
        let spelled = match uri.query() {
            Some(q) => format!("{trimmed}{slash}?{q}"),
            None => format!("{trimmed}{slash}"),
        };
        spelled.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs;

    #[test]
    fn canonical_paths() {
        let paths = CanonicalPaths::new(&docs::openapi());
        let c = |p: &str| paths.canonical(&p.parse().unwrap()).map(|u| u.to_string());
        for (path, expected) in [
            ("/posts", Some("/posts/")),
            ("/posts?limit=1", Some("/posts/?limit=1")),
            ("/posts//?limit=1&skip=2", Some("/posts/?limit=1&skip=2")),
            ("/posts/", None),
            ("/posts/?limit=1", None),
            ("/posts/1/", Some("/posts/1")),
            ("/posts/1//", Some("/posts/1")),
            ("/posts/latest/", Some("/posts/latest")),
            ("/users", Some("/users/")),
            ("/users/me/", Some("/users/me")),
            ("/login/", Some("/login")),
            ("/login", None),
            ("/vote", Some("/vote/")),
            ("/health/", Some("/health")),
            ("/ready/", Some("/ready")),
            ("/docs/", None),
            ("/docs", None),
            ("/docs/index.html", None),
            ("/redoc/", Some("/redoc")),
            (
                "/redoc/redoc.standalone.js/",
                Some("/redoc/redoc.standalone.js"),
            ),
            ("/openapi.json/", Some("/openapi.json")),
            ("/metrics", None),
            ("/metrics/", None),
            ("/nowhere/", None),
            ("/nowhere", None),
            ("/", None),
            ("//", None),
            ("//posts", None),
            ("/?q=1", None),
        ] {
            assert_eq!(c(path).as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn the_route_table_tells_405_from_404() {
        let table = RouteTable::new(&docs::openapi());
        assert_eq!(table.allowed("/posts/"), Some("GET, POST"));
        assert_eq!(table.allowed("/vote/"), Some("POST"));
        assert_eq!(table.allowed("/metrics"), Some("GET"));
        assert_eq!(table.allowed("/docs/swagger-ui.css"), Some("GET"));
        assert_eq!(table.allowed("/posts"), None);
        assert_eq!(table.allowed("/posts/1/votes"), None);
        assert_eq!(table.allowed("/nowhere"), None);
    }
}
