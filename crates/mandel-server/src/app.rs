//! The HTTP interface: one [`app`] per connection, the same for both isolations, so tests can
//! drive it without a socket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mandel::OrbitCache;
use serde::Serialize;

use crate::config::Config;
use crate::db::{Db, RenderRecord};
use crate::error::ApiError;
use crate::log::RenderLog;
use crate::render_api::{self, RenderRequest, Requester};
use crate::scoreboard::Scoreboard;
use crate::tiles::{self, TileCache, TileRequest};
use crate::{explore, pages};

/// Renders listed per page of `/renders` unless `limit` says otherwise, and at most.
const PAGE_DEFAULT: u32 = 20;
const PAGE_MAX: u32 = 100;

/// Everything one connection's requests share: the way to the render log's writer, a database
/// connection of its own for reading (opened on the first request that reads), the
/// scoreboard, the configuration, and who is at the other end.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    log: Arc<dyn RenderLog>,
    db: Mutex<Option<Db>>,
    /// This connection's handle on the shared tile cache (opened on the first tile).
    tiles: Mutex<Option<TileCache>>,
    board: Arc<Scoreboard>,
    config: Arc<Config>,
    /// The process's reference orbits, for deep renders and tiles.
    orbits: OrbitCache,
    client: SocketAddr,
    /// Requests seen on this connection, to close it after `keep_alive_requests`.
    requests: AtomicU32,
}

impl AppState {
    pub fn new(
        log: Arc<dyn RenderLog>,
        board: Arc<Scoreboard>,
        config: Arc<Config>,
        orbits: OrbitCache,
        client: SocketAddr,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                log,
                db: Mutex::new(None),
                tiles: Mutex::new(None),
                board,
                config,
                orbits,
                client,
                requests: AtomicU32::new(0),
            }),
        }
    }

    /// Runs `f` with the reading connection on a blocking thread (SQLite calls block).
    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db, &Inner) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.blocking(move |inner| {
            // A panic while holding the lock cannot leave the connection half-changed
            // (SQLite rolls back), so a poisoned lock is still usable.
            let mut db = inner.db.lock().unwrap_or_else(|p| p.into_inner());
            if db.is_none() {
                *db = Some(Db::open(&inner.config.db)?);
            }
            f(db.as_ref().expect("just opened"), inner)
        })
        .await
    }

    /// Runs `f` with the tile cache (blocking: call it from a blocking thread).
    fn with_tiles<T>(
        inner: &Inner,
        f: impl FnOnce(&TileCache) -> rusqlite::Result<T>,
    ) -> Result<T, ApiError> {
        let mut cache = inner.tiles.lock().unwrap_or_else(|p| p.into_inner());
        if cache.is_none() {
            let config = &inner.config;
            *cache = Some(
                TileCache::open(&config.tile_cache, config.tile_cache_bytes)
                    .map_err(|e| ApiError::Internal(format!("tile cache: {e}")))?,
            );
        }
        f(cache.as_ref().expect("just opened"))
            .map_err(|e| ApiError::Internal(format!("tile cache: {e}")))
    }

    /// Runs `f` on a blocking thread: a render, or anything else that may block.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state.inner))
            .await
            .map_err(|e| ApiError::Internal(format!("worker thread: {e}")))?
    }
}

/// The router for one connection.
pub fn app(state: AppState) -> Router {
    let body_limit = state.inner.config.limits.max_body_bytes;
    Router::new()
        .route("/", get(summary))
        .route("/render", get(render))
        .route("/tile", get(tile))
        .route("/explore", get(explore::page))
        .route("/explore.js", get(explore_script))
        .route("/explore.css", get(explore::style))
        .route("/renders", get(renders))
        .route("/renders/{id}", get(one_render))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit))
        // A panic in a handler becomes a 500 that says nothing of it (the hook logged it).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a request handler panicked".into()).into_response()
            },
        ))
        .layer(middleware::from_fn_with_state(state.clone(), account))
        .with_state(state)
}

/// Counts and logs every response, names the worker that sent it, and asks the client to
/// close the connection once it has had its share of requests.
async fn account(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let n = state.inner.requests.fetch_add(1, Relaxed) + 1;
    let mut response = next.run(req).await;
    let status = response.status();
    state.inner.board.count_response(status.as_u16());
    let headers = response.headers_mut();
    headers.insert("x-mandel-worker", HeaderValue::from(std::process::id()));
    if n >= state.inner.config.keep_alive_requests {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    // Its own target, so that the access log can be turned off alone:
    // MANDEL_LOG=info,mandel::access=off.
    tracing::info!(
        target: "mandel::access",
        pid = std::process::id(),
        client = %state.inner.client,
        status = status.as_u16(),
        ms = format_args!("{:.1}", start.elapsed().as_secs_f64() * 1e3),
        "{method} {uri}"
    );
    response
}

async fn summary(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    state
        .with_db(|db, inner| {
            let totals = db.totals()?;
            let latest = db.latest(PAGE_DEFAULT, None)?;
            let isolation = inner.config.isolation.name();
            pages::summary(&inner.board, isolation, totals, &latest)
                .map(Html)
                .map_err(|e| ApiError::Internal(format!("template: {e}")))
        })
        .await
}

/// A request's query string as its pairs, decoded.
fn query_pairs(query: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn render(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let req = RenderRequest::parse(&query_pairs(query), &state.inner.config.limits)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let who = Requester {
        client: state.inner.client.to_string(),
        user_agent,
    };
    let format = req.format();
    // If the client goes away (or stops reading), hyper drops this future, and with it the
    // guard, which cancels the render: its thread is free within a millisecond or two.
    let cancel = mandel::Cancel::new();
    let _guard = CancelOnDrop(cancel.clone());
    // The render itself runs on this blocking thread (and the library's own thread pool),
    // never on the async runtime's threads.
    let done = state
        .blocking(move |inner| {
            let (log, board, limits) = (&*inner.log, &inner.board, &inner.config.limits);
            // Deep renders of one reference point share its orbit (re-renders at other
            // sizes or colours, and the tiles).
            let mut req = req;
            req.job.orbits = Some(inner.orbits.clone());
            render_api::run(&req, &who, log, board, limits, cancel)
        })
        .await?;
    let headers = [
        (header::CONTENT_TYPE, format.mime_type().to_string()),
        (
            header::HeaderName::from_static("x-mandel-render-id"),
            done.id.to_string(),
        ),
        (
            header::HeaderName::from_static("x-mandel-iterations"),
            done.iterations.to_string(),
        ),
        (
            header::HeaderName::from_static("x-mandel-render-ms"),
            format!("{:.3}", done.took.as_secs_f64() * 1e3),
        ),
    ];
    Ok((headers, done.body).into_response())
}

/// `GET /explore.js`: the explorer's script, for this server's limits.
async fn explore_script(State(state): State<AppState>) -> impl IntoResponse {
    explore::script(state.inner.config.limits.max_iter)
}

/// How long browsers and proxies may keep a tile: a year, as for any immutable asset.
const TILE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// `GET /tile`: one tile of the map (`tiles.rs`), from the shared cache or rendered (under the
/// same deadline and limits as `/render`), with a strong ETag; 304 for a tag the client has.
async fn tile(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let req = TileRequest::parse(&query_pairs(query), &state.inner.config.limits)?;
    let etag = req.etag();
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, TILE_CACHE_CONTROL.to_string()),
    ];
    let known = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if known {
        state.inner.board.tiles_not_modified.fetch_add(1, Relaxed);
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    let cancel = mandel::Cancel::new();
    let _guard = CancelOnDrop(cancel.clone());
    let (body, source) = state
        .blocking(move |inner| {
            // The cache only saves work: a tile is still served when the cache fails.
            let key = req.key();
            let cached = AppState::with_tiles(inner, |c| c.get(&key)).unwrap_or_else(|e| {
                tracing::warn!("{e}");
                None
            });
            if let Some(body) = cached {
                inner.board.tiles_cached.fetch_add(1, Relaxed);
                return Ok((body, "cache"));
            }
            let limits = &inner.config.limits;
            let body = tiles::render(&req, &inner.board, limits, cancel, &inner.orbits)?;
            inner.board.tiles_rendered.fetch_add(1, Relaxed);
            if let Err(e) = AppState::with_tiles(inner, |c| c.put(&key, &body)) {
                tracing::warn!("{e}");
            }
            Ok((body, "render"))
        })
        .await?;
    let headers = (
        [(header::CONTENT_TYPE, "image/png")],
        cache_headers,
        [(header::HeaderName::from_static("x-mandel-tile"), source)],
    );
    Ok((headers, body).into_response())
}

/// Cancels a render when dropped: held by the request's future.
struct CancelOnDrop(mandel::Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[derive(Serialize)]
struct Page {
    renders: Vec<RenderRecord>,
    /// The next (older) page, absent on the last one.
    next: Option<String>,
}

async fn renders(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Page>, ApiError> {
    let (mut limit, mut before) = (PAGE_DEFAULT, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=PAGE_MAX).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad(
                            "limit",
                            &*value,
                            format!("is not a number from 1 to {PAGE_MAX}"),
                        )
                    })?;
            }
            "before" => {
                before = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| ApiError::bad("before", &*value, "is not a render id"))?,
                );
            }
            _ => {
                return Err(ApiError::bad(
                    &*key,
                    &*value,
                    "is not a parameter of /renders",
                ));
            }
        }
    }
    let renders = state
        .with_db(move |db, _| Ok(db.latest(limit, before)?))
        .await?;
    let next = (renders.len() == limit as usize)
        .then(|| {
            renders
                .last()
                .map(|r| format!("/renders?limit={limit}&before={}", r.id))
        })
        .flatten();
    Ok(Json(Page { renders, next }))
}

async fn one_render(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RenderRecord>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad("id", &id, "is not a render id"))?;
    state
        .with_db(move |db, _| {
            db.get(id)?
                .ok_or_else(|| ApiError::NotFound(format!("no render {id}")))
        })
        .await
        .map(Json)
}

async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.with_db(|db, _| Ok(db.ping()?)).await?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "pid": std::process::id() }),
    ))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        pages::metrics(&state.inner.board),
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such page: {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method) -> Response {
    let body = serde_json::json!({ "error": format!("{method} is not allowed here; use GET") });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::config::Limits;
    use num_bigint::BigInt;

    struct Harness {
        state: AppState,
        _dir: tempfile::TempDir,
    }

    fn harness(limits: Limits) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let config = Config {
            limits,
            ..Config::new("127.0.0.1:0".parse().unwrap(), path.clone())
        };
        let board = Arc::new(Scoreboard::private(config.max_workers).unwrap());
        let client = "127.0.0.1:4000".parse().unwrap();
        let log = crate::log::LogWriter::start(Db::open(&path).unwrap()).unwrap();
        let orbits = OrbitCache::new(config.orbit_cache_bytes);
        let state = AppState::new(Arc::new(log), board, Arc::new(config), orbits, client);
        Harness { state, _dir: dir }
    }

    impl Harness {
        async fn send(
            &self,
            req: axum::http::Request<Body>,
        ) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
            let resp = app(self.state.clone()).oneshot(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes().to_vec();
            (parts.status, bytes, parts.headers)
        }

        async fn get(&self, uri: &str) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
            self.send(axum::http::Request::get(uri).body(Body::empty()).unwrap())
                .await
        }
    }

    fn json(bytes: &[u8]) -> serde_json::Value {
        serde_json::from_slice(bytes).unwrap()
    }

    /// A PNG's RGB pixels and its width.
    fn pixels(png: &[u8]) -> (Vec<u8>, u32) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        (rgb, info.width)
    }

    #[tokio::test]
    async fn neighbouring_tiles_are_one_render_cut_up() {
        let h = harness(Limits::default());
        // Level 3 tiles are 0.5 wide: x -3..-1 and y 0..2 cover [-1.5, -0.5] × [0, 1].
        let style = "max_iter=300&colormap=twilight&color=smooth&cycle=40";
        let (status, whole, _) = h
            .get(&format!(
                "/render?xmin=-1.5&xmax=-0.5&ymin=0&ymax=1&width=512&height=512&{style}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (whole, width) = pixels(&whole);
        assert_eq!(width, 512);
        for (x, left) in [(-3, 0), (-2, 256)] {
            // The picture's top row is the plane's highest: tile y=1 is the upper half.
            for (y, top) in [(1, 0), (0, 256)] {
                let (status, tile, headers) =
                    h.get(&format!("/tile?level=3&x={x}&y={y}&{style}")).await;
                assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&tile));
                assert_eq!(headers[header::CONTENT_TYPE], "image/png");
                let (tile, _) = pixels(&tile);
                for row in 0..256 {
                    let at = ((top + row) * 512 + left) * 3;
                    assert!(
                        tile[row * 256 * 3..(row + 1) * 256 * 3] == whole[at..at + 256 * 3],
                        "tile ({x}, {y}) row {row}"
                    );
                }
            }
        }
        assert_eq!(h.state.inner.board.tiles_rendered.load(Relaxed), 4);
    }

    #[tokio::test]
    async fn deep_tiles_are_one_render_cut_up_by_the_perturbation_criterion() {
        let h = harness(Limits::default());
        // Level 100 (a zoom of 7·2^97, about 1.1e30): the four tiles that meet at c = i, in
        // four families (four reference points), against one render about i.
        let style = "max_iter=3000&colormap=twilight&color=counts&cycle=40";
        let zoom = BigInt::from(7) << 96;
        let (status, whole, _) = h
            .get(&format!(
                "/render?center=0,1&zoom={zoom}&width=512&height=512&{style}"
            ))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&whole)
        );
        let (whole, _) = pixels(&whole);
        let one: BigInt = BigInt::from(1) << 98;
        let (mut equal, mut colours) = (0, std::collections::HashSet::new());
        for (x, left) in [(-1, 0), (0, 256)] {
            for (y, top) in [(one.clone(), 0), (&one - 1, 256)] {
                let (status, tile, _) =
                    h.get(&format!("/tile?level=100&x={x}&y={y}&{style}")).await;
                assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&tile));
                let (tile, _) = pixels(&tile);
                for row in 0..256 {
                    for col in 0..256 {
                        let at = ((top + row) * 512 + left + col) * 3;
                        let here = &tile[(row * 256 + col) * 3..][..3];
                        equal += usize::from(here == &whole[at..at + 3]);
                        colours.insert(here.to_vec());
                    }
                }
            }
        }
        // Real structure, not blocks: the spiral's counts take many colours.
        assert!(colours.len() >= 30, "{} colours", colours.len());
        assert!(equal * 1000 >= 999 * 512 * 512, "{equal} of {}", 512 * 512);
        // A fifth tile of one of those families perturbs about the orbit already held: only
        // its table (its pixels' reach from the point) is new.
        let held = h.state.inner.orbits.size().0;
        let (status, _, _) = h
            .get(&format!("/tile?level=100&x=-2&y={one}&{style}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h.state.inner.orbits.size().0, held + 1);
    }

    #[tokio::test]
    async fn a_tile_is_rendered_once_then_served_from_the_cache_or_not_at_all() {
        let h = harness(Limits::default());
        let uri = "/tile?level=1&x=-1&y=0&max_iter=200";
        let (status, first, headers) = h.get(uri).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-mandel-tile"], "render");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = headers[header::ETAG].to_str().unwrap().to_string();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        // Another connection (another worker) finds it in the shared cache.
        let other = Harness {
            state: AppState::new(
                h.state.inner.log.clone(),
                h.state.inner.board.clone(),
                h.state.inner.config.clone(),
                OrbitCache::new(0),
                "127.0.0.1:4001".parse().unwrap(),
            ),
            _dir: tempfile::tempdir().unwrap(),
        };
        let (status, second, headers) = other.get(uri).await;
        assert_eq!(
            (status, &headers["x-mandel-tile"]),
            (StatusCode::OK, &"cache".parse().unwrap())
        );
        assert_eq!(second, first);
        assert_eq!(headers[header::ETAG], etag.as_str());
        // A browser that holds the tile is told so, with no body.
        let req = axum::http::Request::get(uri)
            .header(header::IF_NONE_MATCH, format!("\"other\", {etag}"))
            .body(Body::empty())
            .unwrap();
        let (status, body, _) = h.send(req).await;
        assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
        let board = &h.state.inner.board;
        let counts = [
            &board.tiles_rendered,
            &board.tiles_cached,
            &board.tiles_not_modified,
        ]
        .map(|n| n.load(Relaxed));
        assert_eq!(counts, [1, 1, 1]);
        let (_, metrics, _) = h.get("/metrics").await;
        let metrics = String::from_utf8(metrics).unwrap();
        assert!(
            metrics.contains("mandel_tiles_total{source=\"cache\"} 1"),
            "{metrics}"
        );
        // A bad tile is a 400 naming its field.
        let (status, body, _) = h.get("/tile?level=1&x=2&y=0").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json(&body)["field"], "x");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_with_413() {
        let h = harness(Limits {
            max_body_bytes: 100,
            ..Limits::default()
        });
        let req = axum::http::Request::get("/healthz")
            .header(header::CONTENT_LENGTH, "101")
            .body(Body::from(vec![b'x'; 101]))
            .unwrap();
        assert_eq!(h.send(req).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        let req = axum::http::Request::get("/healthz")
            .header(header::CONTENT_LENGTH, "100")
            .body(Body::from(vec![b'x'; 100]))
            .unwrap();
        assert_eq!(h.send(req).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn other_methods_get_405_in_json() {
        let h = harness(Limits::default());
        let req = axum::http::Request::post("/render")
            .body(Body::empty())
            .unwrap();
        let (status, body, _) = h.send(req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(json(&body)["error"].as_str().unwrap().contains("POST"));
    }

    #[tokio::test]
    async fn a_render_past_its_deadline_is_503_and_logged_as_timeout() {
        let h = harness(Limits {
            render_timeout: Duration::from_nanos(1),
            ..Limits::default()
        });
        let (status, body, _) = h.get("/render?width=500&height=500&format=npy").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(json(&body)["limit"].as_f64().is_some());
        let (_, body, _) = h.get("/renders").await;
        assert_eq!(json(&body)["renders"][0]["status"], "timeout");
    }

    #[tokio::test]
    async fn every_response_is_counted_in_the_metrics() {
        let h = harness(Limits::default());
        h.get("/render?width=4&height=4").await;
        h.get("/render?width=x").await;
        h.get("/render?width=x").await;
        let (status, body, headers) = h.get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let text = String::from_utf8(body).unwrap();
        for line in [
            "mandel_http_requests_total{status=\"200\"} 1",
            "mandel_http_requests_total{status=\"400\"} 2",
            "mandel_render_seconds_count 1",
            "mandel_render_seconds_bucket{le=\"+Inf\"} 1",
            "# TYPE mandel_render_seconds histogram",
            "mandel_workers_max 100",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[tokio::test]
    async fn stored_strings_are_escaped_on_the_summary_page() {
        let h = harness(Limits::default());
        let req = axum::http::Request::get("/render?width=4&height=4")
            .header(header::USER_AGENT, "<img src=x onerror=alert(1)>")
            .body(Body::empty())
            .unwrap();
        assert_eq!(h.send(req).await.0, StatusCode::OK);
        {
            let log = &h.state.inner.log;
            let id = log
                .begin(&crate::db::tests::sample("\"><b>evil</b>"))
                .unwrap();
            log.finish(
                id,
                Duration::ZERO,
                &crate::db::Outcome::Failed("<i>boom</i>".into()),
            )
            .unwrap();
        }
        let (status, body, _) = h.get("/").await;
        assert_eq!(status, StatusCode::OK);
        let html = String::from_utf8(body).unwrap();
        for raw in ["<img src=x", "<b>evil", "<i>boom"] {
            assert!(!html.contains(raw), "{raw} printed raw");
        }
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&quot;&gt;&lt;b&gt;evil"));
        assert!(html.contains("title=\"&lt;i&gt;boom"));
    }

    #[tokio::test]
    async fn the_connection_is_closed_after_its_share_of_requests() {
        let h = harness(Limits::default());
        let limit = h.state.inner.config.keep_alive_requests;
        for n in 1..=limit {
            let (_, _, headers) = h.get("/healthz").await;
            let close = headers
                .get(header::CONNECTION)
                .is_some_and(|v| v == "close");
            assert_eq!(close, n == limit, "request {n}");
        }
    }
}
