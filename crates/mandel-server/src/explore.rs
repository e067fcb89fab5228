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

/// The script, told this build's version (which it puts in tile URLs) and the server's
/// highest max-iter (which bounds its automatic one).
fn script_text(max_iter: u32) -> String {
    SCRIPT
        .replace("__MANDEL_VERSION__", env!("CARGO_PKG_VERSION"))
        .replace("__MANDEL_MAX_ITER__", &max_iter.to_string())
}

/// The script for a server whose highest max-iter is `max_iter`.
pub fn script(max_iter: u32) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            CACHE,
        ],
        script_text(max_iter),
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
        let script = script_text(5000);
        assert!(!script.contains("__MANDEL_"));
        assert!(script.contains("Number(\"5000\")"));
    }
}
