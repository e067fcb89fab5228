//! `GET /explore`: the map explorer, a page and its script and style, compiled into the
//! binary. It asks only this server for anything (tiles from `/tile`, pictures from
//! `/render`), so it works with no network. Why a canvas of our own rather than a map library:
//! ARCHITECTURE.md.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const PAGE: &str = include_str!("../assets/explore.html");
const SCRIPT: &str = include_str!("../assets/explore.js");
const STYLE: &str = include_str!("../assets/explore.css");

/// The assets change only with the binary; a browser checks again at each visit.
const CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-cache");

pub async fn page() -> impl IntoResponse {
    ([CACHE], Html(PAGE))
}

/// The script, told this build's version (which it puts in tile URLs).
static VERSIONED_SCRIPT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| SCRIPT.replace("__MANDEL_VERSION__", env!("CARGO_PKG_VERSION")));

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            CACHE,
        ],
        VERSIONED_SCRIPT.as_str(),
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), CACHE],
        STYLE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assets_name_no_other_host() {
        for (name, text) in [("page", PAGE), ("script", SCRIPT), ("style", STYLE)] {
            // Absolute and scheme-relative addresses are the only ways to name another host.
            for outside in ["http:", "https:", "\"//", "'//", "`//", "(//"] {
                assert!(!text.contains(outside), "the {name} names {outside}");
            }
        }
        assert!(PAGE.contains("src=\"/explore.js\"") && PAGE.contains("href=\"/explore.css\""));
        assert!(!VERSIONED_SCRIPT.contains("__MANDEL_VERSION__"));
    }
}
