//! `GET /render`: the query read into the same options `mandel render` takes, checked against
//! the server's limits, rendered off the async runtime and logged in the database.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mandel::{ColorMode, Colormap, Engine, Format, GridSpec, Kernel, Params, Pool, Style};

use crate::config::Limits;
use crate::db::{Db, NewRender, Outcome};
use crate::error::ApiError;
use crate::scoreboard::Scoreboard;

/// A validated `/render` request.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub params: Params,
    pub style: Style,
    pub format: Format,
}

/// The query parameters `/render` knows, as `mandel render` spells them (with underscores).
pub const PARAMETERS: &[&str] = &[
    "width",
    "height",
    "max_iter",
    "xmin",
    "xmax",
    "ymin",
    "ymax",
    "center",
    "zoom",
    "colormap",
    "color",
    "cycle",
    "offset",
    "inside",
    "supersample",
    "format",
];

impl RenderRequest {
    /// Reads `/render`'s query pairs: every value parsed and named when it is bad (400), then
    /// the request checked against `limits` (413 for pixels, 422 for max-iter).
    pub fn parse(pairs: &[(String, String)], limits: &Limits) -> Result<Self, ApiError> {
        for (i, (key, value)) in pairs.iter().enumerate() {
            if !PARAMETERS.contains(&key.as_str()) {
                return Err(ApiError::bad(key, value, "is not a parameter of /render"));
            }
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(ApiError::bad(key, value, "is given more than once"));
            }
        }
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let defaults = GridSpec::default();
        let spec = GridSpec {
            width: opt(get("width"), "width", whole)?.unwrap_or(defaults.width),
            height: opt(get("height"), "height", whole)?.unwrap_or(defaults.height),
            max_iter: opt(get("max_iter"), "max_iter", whole)?.unwrap_or(defaults.max_iter),
            xmin: opt(get("xmin"), "xmin", number)?,
            xmax: opt(get("xmax"), "xmax", number)?,
            ymin: opt(get("ymin"), "ymin", number)?,
            ymax: opt(get("ymax"), "ymax", number)?,
            center: opt(get("center"), "center", complex)?,
            zoom: opt(get("zoom"), "zoom", number)?,
        };
        let style = Style {
            mode: opt(get("color"), "color", named::<ColorMode>)?.unwrap_or_default(),
            colormap: opt(get("colormap"), "colormap", named::<Colormap>)?.unwrap_or_default(),
            cycle: opt(get("cycle"), "cycle", number)?,
            offset: opt(get("offset"), "offset", number)?.unwrap_or(0.0),
            inside: opt(get("inside"), "inside", |s| {
                mandel::style::parse_color(s).map_err(|e| e.to_string())
            })?,
            supersample: opt(get("supersample"), "supersample", whole)?.unwrap_or(1),
        };
        let format = opt(get("format"), "format", named::<Format>)?.unwrap_or(Format::Png);

        style.validate()?;
        if style.supersample > 1 && !format.uses_colormap() {
            return Err(ApiError::bad(
                "supersample",
                style.supersample.to_string(),
                format!("makes pictures (png, jpeg, ppm); {format} holds the exact counts"),
            ));
        }
        // Every value is checked before the limits: a request that is wrong is told so,
        // whatever its size.
        let params = spec.params()?;
        if spec.max_iter > limits.max_iter {
            return Err(ApiError::OverLimit {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                field: "max_iter",
                what: format!("max_iter {}", spec.max_iter),
                limit: limits.max_iter.into(),
            });
        }
        let ss = u64::from(style.supersample);
        let pixels = u64::from(spec.width) * u64::from(spec.height) * ss * ss;
        if pixels > limits.max_pixels {
            return Err(ApiError::OverLimit {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                field: "pixels",
                what: format!(
                    "{}x{} pixels{}",
                    spec.width,
                    spec.height,
                    if ss > 1 {
                        format!(" with {ss}x{ss} samples each")
                    } else {
                        String::new()
                    }
                ),
                limit: limits.max_pixels,
            });
        }
        Ok(RenderRequest {
            params,
            style,
            format,
        })
    }

    /// The query that renders exactly this again: every option explicit, the view as exact
    /// edges, so that the link survives changes of defaults.
    pub fn canonical_query(&self) -> String {
        let vp = &self.params.viewport;
        let b = vp.bounds();
        let s = &self.style;
        let mut q = vec![
            ("width", vp.width().to_string()),
            ("height", vp.height().to_string()),
            ("max_iter", self.params.max_iter.to_string()),
            ("xmin", format!("{:?}", b.xmin)),
            ("xmax", format!("{:?}", b.xmax)),
            ("ymin", format!("{:?}", b.ymin)),
            ("ymax", format!("{:?}", b.ymax)),
            ("colormap", s.colormap.to_string()),
            ("color", s.mode.to_string()),
            ("format", self.format.to_string()),
        ];
        if let Some(n) = s.cycle {
            q.push(("cycle", format!("{n:?}")));
        }
        if s.offset != 0.0 {
            q.push(("offset", format!("{:?}", s.offset)));
        }
        if let Some([r, g, b]) = s.inside {
            q.push(("inside", format!("#{r:02x}{g:02x}{b:02x}")));
        }
        if s.supersample > 1 {
            q.push(("supersample", s.supersample.to_string()));
        }
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish()
    }
}

fn opt<T>(
    value: Option<&str>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| parse(v.trim()).map_err(|reason| ApiError::bad(field, v, reason)))
        .transpose()
}

fn whole(s: &str) -> Result<u32, String> {
    s.parse().map_err(|_| "is not a whole number".into())
}

fn number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err("is not a finite number".into()),
    }
}

fn complex(s: &str) -> Result<(f64, f64), String> {
    let (re, im) = s
        .split_once(',')
        .ok_or("is not RE,IM (two numbers separated by a comma)")?;
    Ok((number(re.trim())?, number(im.trim())?))
}

fn named<T: std::str::FromStr<Err = mandel::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: mandel::Error| match e {
        mandel::Error::Invalid { reason, .. } => reason,
        other => other.to_string(),
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
/// thread. It runs to the end even if the client has gone, so the log is always completed.
pub fn run(
    req: &RenderRequest,
    who: &Requester,
    db: &Db,
    board: &Scoreboard,
    limits: &Limits,
) -> Result<Rendered, ApiError> {
    let vp = &req.params.viewport;
    let id = db.begin_render(&NewRender {
        client: who.client.clone(),
        user_agent: who.user_agent.clone(),
        pid: std::process::id(),
        width: vp.width(),
        height: vp.height(),
        max_iter: req.params.max_iter,
        bounds: vp.bounds(),
        colormap: req.style.colormap.to_string(),
        color: req.style.mode.to_string(),
        format: req.format.to_string(),
        query: req.canonical_query(),
    })?;
    board
        .renders_in_flight
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    let result = compute(req, start + limits.render_timeout);
    let took = start.elapsed();
    board
        .renders_in_flight
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    match result {
        Ok((body, iterations)) => {
            let outcome = Outcome::Ok {
                iterations,
                bytes: body.len() as u64,
            };
            db.finish_render(id, took, &outcome)?;
            board.observe_render(took);
            Ok(Rendered {
                id,
                body,
                iterations,
                took,
            })
        }
        Err(mandel::Error::DeadlineExceeded) => {
            db.finish_render(id, took, &Outcome::Timeout)?;
            Err(ApiError::Deadline {
                limit_seconds: limits.render_timeout.as_secs_f64(),
            })
        }
        Err(e) => {
            db.finish_render(id, took, &Outcome::Failed(e.to_string()))?;
            Err(e.into())
        }
    }
}

/// Renders with at most this many pixel-iterations (pixels times max-iter) run sequentially.
const SMALL_RENDER: u64 = 1 << 24;

/// The encoded body and the render's iteration count.
fn compute(req: &RenderRequest, deadline: Instant) -> mandel::Result<(Vec<u8>, u64)> {
    let params = &req.params;
    // A small render stays on the request's own thread: handing a millisecond of work to the
    // pool costs about as much as it saves, and under load the requests keep every core busy.
    let work = params.viewport.pixels() * u64::from(params.max_iter);
    let pool = if work < SMALL_RENDER {
        Pool::Sequential
    } else {
        Pool::all_cores()
    };
    let engine = Engine {
        deadline: Some(deadline),
        ..Engine::new(pool, Kernel::best())
    };
    let grid = mandel::render(params, &engine, &|_| {})?;
    let mut body = Vec::new();
    if req.format.uses_colormap() {
        let rgb = mandel::style::paint(params, &engine, &req.style, Some(&grid))?;
        let text = mandel::output::picture_params(params, &req.style);
        let (w, h) = (grid.width(), grid.height());
        mandel::output::write_picture(&rgb, w, h, req.format, Some(&text), &mut body)?;
    } else {
        mandel::output::write_counts(&grid, req.format, params.max_iter, &mut body)?;
    }
    Ok((body, grid.total_iterations()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.params, GridSpec::default().params().unwrap());
        assert_eq!(r.format, Format::Png);
        assert_eq!(r.style, Style::default());
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
            assert_eq!(again.params, r.params, "{q}");
            assert_eq!(again.style, r.style, "{q}");
            assert_eq!(again.format, r.format, "{q}");
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
}
