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
use serde::Serialize;

use crate::config::Config;
use crate::db::{Db, RenderRecord};
use crate::error::ApiError;
use crate::pages;
use crate::render_api::{self, RenderRequest, Requester};
use crate::scoreboard::Scoreboard;

/// Renders listed per page of `/renders` unless `limit` says otherwise, and at most.
const PAGE_DEFAULT: u32 = 20;
const PAGE_MAX: u32 = 100;

/// Everything one connection's requests share: its own database connection, the scoreboard,
/// the configuration, and who is at the other end.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Mutex<Db>,
    board: Arc<Scoreboard>,
    config: Arc<Config>,
    client: SocketAddr,
    /// Requests seen on this connection, to close it after `keep_alive_requests`.
    requests: AtomicU32,
}

impl AppState {
    pub fn new(db: Db, board: Arc<Scoreboard>, config: Arc<Config>, client: SocketAddr) -> Self {
        AppState {
            inner: Arc::new(Inner {
                db: Mutex::new(db),
                board,
                config,
                client,
                requests: AtomicU32::new(0),
            }),
        }
    }

    /// Runs `f` with the database on a blocking thread: SQLite calls block, and a render's
    /// log entries must be written even if the client goes away meanwhile.
    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db, &Inner) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let inner = &*state.inner;
            // A panic while holding the lock cannot leave the connection half-changed
            // (SQLite rolls back), so a poisoned lock is still usable.
            let db = inner.db.lock().unwrap_or_else(|p| p.into_inner());
            f(&db, inner)
        })
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
        .route("/renders", get(renders))
        .route("/renders/{id}", get(one_render))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit))
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
    tracing::info!(
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

async fn render(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let req = RenderRequest::parse(&pairs, &state.inner.config.limits)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let who = Requester {
        client: state.inner.client.to_string(),
        user_agent,
    };
    let format = req.format;
    // The render itself runs on this blocking thread (and the library's own thread pool),
    // never on the async runtime's threads.
    let done = state
        .with_db(move |db, inner| {
            render_api::run(&req, &who, db, &inner.board, &inner.config.limits)
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
