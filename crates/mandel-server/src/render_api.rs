//! `GET /render`: the query read into the same options `mandel render` takes, checked against
//! the server's limits, rendered off the async runtime and logged in the database.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mandel::{Cancel, Format, Job, Pool};

use crate::config::Limits;
use crate::db::{NewRender, Outcome};
use crate::error::ApiError;
use crate::log::RenderLog;
use crate::scoreboard::Scoreboard;

/// A validated `/render` request: the library's job, which the query describes in the job's
/// own canonical vocabulary.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// What to render (its canonical text is the request's re-render query).
    pub job: Job,
}

impl RenderRequest {
    /// Reads `/render`'s query pairs into a job: every value parsed and checked, the bad one
    /// named (400), then the job checked against `limits` (413 for pixels, 422 for max-iter).
    pub fn parse(pairs: &[(String, String)], limits: &Limits) -> Result<Self, ApiError> {
        let mut job = Job::from_pairs(pairs.iter().map(|(k, v)| (k, v)))?;
        // Every value is checked before the limits: a request that is wrong is told so,
        // whatever its size.
        job.check()?;
        check_max_iter(&job, limits)?;
        let ss = job.style.supersample;
        if job.samples().is_none_or(|n| n > limits.max_pixels) {
            // In u128, where no product of three u32s can wrap, so the message is exact.
            let rows = job.row_range().len() as u32;
            let samples =
                u128::from(job.width) * u128::from(rows) * u128::from(ss) * u128::from(ss);
            let what = if ss > 1 {
                format!(
                    "width {} x rows {rows} x {ss}x{ss} samples = {samples} samples",
                    job.width
                )
            } else {
                format!("width {} x rows {rows} = {samples} pixels", job.width)
            };
            return Err(ApiError::OverLimit {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                field: "pixels",
                what,
                limit: limits.max_pixels,
            });
        }
        // A small render stays on the request's own thread: under load the requests keep
        // every core busy.
        job.pool = Pool::Auto;
        Ok(RenderRequest { job })
    }

    /// The query that renders exactly this again: the job's canonical text.
    pub fn canonical_query(&self) -> String {
        self.job
            .canonical()
            .expect("a checked job has a canonical text")
    }

    /// The format of the response's body.
    pub fn format(&self) -> Format {
        self.job.format
    }
}

/// Refuses (422) a job whose max-iter is over the server's limit.
pub fn check_max_iter(job: &Job, limits: &Limits) -> Result<(), ApiError> {
    if job.max_iter <= limits.max_iter {
        return Ok(());
    }
    Err(ApiError::OverLimit {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        field: "max_iter",
        what: format!("max_iter {}", job.max_iter),
        limit: limits.max_iter.into(),
    })
}

/// Who asked, for the log.
#[derive(Debug, Clone)]
pub struct Requester {
    pub client: String,
    pub user_agent: String,
}

/// A finished render, ready to send.
#[derive(Debug)]
pub struct Rendered {
    pub id: i64,
    pub body: Vec<u8>,
    pub iterations: u64,
    pub took: Duration,
}

/// Logs, renders and encodes `req`, and logs the outcome. Blocking: call it from a blocking
/// thread. The render stops at the deadline or when `cancel` is raised (its client went
/// away), and whatever happens, a panic included, the outcome is logged and the scoreboard
/// left as it was.
pub fn run(
    req: &RenderRequest,
    who: &Requester,
    log: &dyn RenderLog,
    board: &Scoreboard,
    limits: &Limits,
    cancel: Cancel,
) -> Result<Rendered, ApiError> {
    run_with(req, who, log, board, limits, cancel, &compute)
}

/// Computes a job's body: the encoded picture and its iteration count.
type Compute = dyn Fn(&Job) -> mandel::Result<(Vec<u8>, u64)>;

/// [`run`], with the computation given (tests make it fail in ways a render cannot be asked
/// to).
fn run_with(
    req: &RenderRequest,
    who: &Requester,
    log: &dyn RenderLog,
    board: &Scoreboard,
    limits: &Limits,
    cancel: Cancel,
    compute: &Compute,
) -> Result<Rendered, ApiError> {
    let job = &req.job;
    let id = log.begin(&NewRender {
        requested_at: crate::db::unix_millis(),
        client: who.client.clone(),
        user_agent: who.user_agent.clone(),
        pid: std::process::id(),
        width: job.width,
        height: job.height,
        max_iter: job.max_iter,
        bounds: job.approximate_bounds()?,
        colormap: job.style.colormap.to_string(),
        color: job.style.mode.to_string(),
        format: job.format.to_string(),
        query: req.canonical_query(),
    })?;
    let start = Instant::now();
    let job = Job {
        deadline: Some(start + limits.render_timeout),
        cancel: Some(cancel),
        ..job.clone()
    };
    // A panic is caught here so that the render is logged as failed and the scoreboard stays
    // consistent; the message went to the log through the panic hook, and the client gets
    // a 500 without it.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| compute(&job)));
    let took = start.elapsed();
    let (outcome, answer) = match result {
        Ok(Ok((body, iterations))) => {
            let outcome = Outcome::Ok {
                iterations,
                bytes: body.len() as u64,
            };
            let done = Rendered {
                id,
                body,
                iterations,
                took,
            };
            (outcome, Ok(done))
        }
        Ok(Err(mandel::Error::DeadlineExceeded)) => {
            let limit_seconds = limits.render_timeout.as_secs_f64();
            (Outcome::Timeout, Err(ApiError::Deadline { limit_seconds }))
        }
        Ok(Err(mandel::Error::Cancelled)) => (Outcome::Cancelled, Err(ApiError::Cancelled)),
        Ok(Err(e)) => (Outcome::Failed(e.to_string()), Err(e.into())),
        Err(_) => {
            let why = "the render panicked".to_string();
            (Outcome::Failed(why.clone()), Err(ApiError::Internal(why)))
        }
    };
    // Committed before the response is sent: a client that got its 200 finds it logged.
    log.finish(id, took, &outcome)?;
    if answer.is_ok() {
        board.observe_render(took);
    }
    answer
}

/// The encoded body and the render's iteration count (the counts' sum).
fn compute(job: &Job) -> mandel::Result<(Vec<u8>, u64)> {
    let mut body = Vec::new();
    let summary = job.run(&mut body)?;
    Ok((body, summary.iterations))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use std::sync::atomic::Ordering::Relaxed;

    fn parse(q: &str) -> Result<RenderRequest, ApiError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        RenderRequest::parse(&pairs, &Limits::default())
    }

    fn field_of(q: &str) -> (StatusCode, String) {
        let e = parse(q).unwrap_err();
        let field = match &e {
            ApiError::BadParam { field, .. } => field.clone(),
            ApiError::OverLimit { field, .. } => field.to_string(),
            other => panic!("{other}"),
        };
        (e.status(), field)
    }

    #[test]
    fn defaults_are_mandel_renders() {
        let r = parse("").unwrap();
        let seed = Job::default();
        assert_eq!(r.job.viewport().unwrap(), seed.viewport().unwrap());
        assert_eq!(r.job.max_iter, 1000);
        assert_eq!(r.format(), Format::Png);
        assert_eq!(r.job.style, mandel::Style::default());
    }

    #[test]
    fn the_canonical_query_parses_to_the_same_request() {
        for q in [
            "width=64&height=48&center=-0.75,0.1&zoom=3&colormap=magma&format=jpeg",
            "xmin=-1.5&xmax=0.5&ymin=-1&ymax=1&max_iter=77&format=npy",
            "color=smooth&cycle=64&offset=0.25&inside=%23102030&supersample=2",
        ] {
            let r = parse(q).unwrap();
            let again = parse(&r.canonical_query()).unwrap();
            assert_eq!(
                again.job.viewport().unwrap(),
                r.job.viewport().unwrap(),
                "{q}"
            );
            assert_eq!(again.job.max_iter, r.job.max_iter, "{q}");
            assert_eq!(again.job.style, r.job.style, "{q}");
            assert_eq!(again.format(), r.format(), "{q}");
        }
    }

    #[test]
    fn every_bad_value_is_named() {
        let bad = StatusCode::BAD_REQUEST;
        for (q, field) in [
            ("width=abc", "width"),
            ("width=0", "width"),
            ("height=-3", "height"),
            ("max_iter=0", "max_iter"),
            ("xmin=nan", "xmin"),
            ("xmin=1&xmax=0", "xmin"),
            ("center=1", "center"),
            ("center=0,0&xmin=-1", "xmin"),
            ("zoom=0", "zoom"),
            ("colormap=rainbow", "colormap"),
            ("color=loud", "color"),
            ("format=gif", "format"),
            ("inside=notacolor", "inside"),
            ("supersample=0", "supersample"),
            ("supersample=2&format=npy", "supersample"),
            ("widht=3", "widht"),
            ("width=3&width=4", "width"),
        ] {
            assert_eq!(field_of(q), (bad, field.to_string()), "{q}");
        }
    }

    #[test]
    fn limits_give_413_and_422() {
        assert_eq!(
            field_of("width=5000&height=5000"),
            (StatusCode::PAYLOAD_TOO_LARGE, "pixels".into())
        );
        assert_eq!(
            field_of("width=2048&height=2048&supersample=3"),
            (StatusCode::PAYLOAD_TOO_LARGE, "pixels".into())
        );
        assert_eq!(
            field_of("max_iter=1000001"),
            (StatusCode::UNPROCESSABLE_ENTITY, "max_iter".into())
        );
        assert!(parse("width=4096&height=4096&max_iter=1000000").is_ok());
    }

    #[test]
    fn sizes_that_would_wrap_are_refused_with_their_exact_size() {
        for (q, samples) in [
            // 2^31 x 2^31 x 4 = 2^64: one past u64.
            (
                "width=2147483648&height=2147483648&supersample=2",
                "18446744073709551616 samples",
            ),
            (
                "width=4294967295&height=4294967295",
                "18446744065119617025 pixels",
            ),
            (
                "width=4294967295&height=1&supersample=16",
                "1099511627520 samples",
            ),
            ("width=65536&height=65536&format=npy", "4294967296 pixels"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE, "{q}: {e}");
            let text = e.to_string();
            assert!(text.contains(samples), "{q}: {text}");
            assert!(text.contains("16777216"), "{q}: {text}");
        }
        let e = parse("max_iter=4294967295").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.to_string().contains("1000000"), "{e}");
        assert_eq!(field_of("max_iter=4294967296").1, "max_iter");
    }

    fn logged(status: &str, compute: &Compute, cancel: Cancel) -> ApiError {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let board = std::sync::Arc::new(Scoreboard::private(1).unwrap());
        let log = crate::log::LogWriter::start(Db::open(&path).unwrap())
            .unwrap()
            .with_board(board.clone());
        let who = Requester {
            client: "127.0.0.1:1".into(),
            user_agent: "test".into(),
        };
        let req = parse("width=4&height=4").unwrap();
        let limits = Limits::default();
        let err = run_with(&req, &who, &log, &board, &limits, cancel, compute).unwrap_err();
        let row = Db::open(&path).unwrap().latest(1, None).unwrap().remove(0);
        assert_eq!(row.status, status);
        assert_eq!(board.renders_in_flight.load(Relaxed), 0);
        err
    }

    #[test]
    fn a_panicking_render_is_a_500_that_tells_nothing_and_is_logged_failed() {
        let err = logged(
            "failed",
            &|_| panic!("secret detail of the panic"),
            Cancel::new(),
        );
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = axum::response::IntoResponse::into_response(err);
        let body = futures_body(response);
        assert!(
            !body.contains("secret") && !body.contains("panick"),
            "{body}"
        );
    }

    #[test]
    fn a_cancelled_render_is_logged_cancelled() {
        let cancel = Cancel::new();
        cancel.cancel();
        let err = logged("cancelled", &compute, cancel);
        assert!(matches!(err, ApiError::Cancelled), "{err}");
    }

    /// A response's body as text.
    fn futures_body(response: axum::response::Response) -> String {
        use http_body_util::BodyExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// Keys of `/render` and values in the shapes they take, and broken ones.
    fn query_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        let known = prop::sample::select(vec![
            "width",
            "height",
            "max_iter",
            "xmin",
            "xmax",
            "ymin",
            "ymax",
            "center",
            "zoom",
            "color",
            "colormap",
            "cycle",
            "offset",
            "inside",
            "supersample",
            "format",
            "rows",
        ]);
        let key = prop_oneof![known.prop_map(String::from), "[a-z_]{1,8}"];
        let value = prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| x.to_string()),
            (any::<f64>(), any::<f64>()).prop_map(|(a, b)| format!("{a},{b}")),
            Just("nan".to_string()),
            Just("inf".to_string()),
            Just("4294967296".to_string()),
            Just("18446744073709551616".to_string()),
            "\\PC{0,12}",
        ];
        proptest::collection::vec((key, value), 0..8)
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_query_string_is_parsed_or_refused_with_a_4xx(query in "\\PC{0,80}") {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            if let Err(e) = RenderRequest::parse(&pairs, &Limits::default()) {
                prop_assert!(e.status().is_client_error(), "{query:?}: {} {e}", e.status());
            }
        }

        #[test]
        fn any_render_parameters_are_parsed_or_refused_with_a_4xx(pairs in query_pairs()) {
            match RenderRequest::parse(&pairs, &Limits::default()) {
                Ok(req) => {
                    // What is accepted is within the limits, and its canonical query says
                    // the same again.
                    let limits = Limits::default();
                    prop_assert!(req.job.samples().is_some_and(|n| n <= limits.max_pixels));
                    prop_assert!(req.job.max_iter <= limits.max_iter);
                    let again: Vec<(String, String)> =
                        form_urlencoded::parse(req.canonical_query().as_bytes())
                            .into_owned()
                            .collect();
                    let again = RenderRequest::parse(&again, &limits).unwrap();
                    prop_assert_eq!(again.canonical_query(), req.canonical_query());
                }
                Err(e) => prop_assert!(e.status().is_client_error(), "{pairs:?}: {e}"),
            }
        }
    }
}
