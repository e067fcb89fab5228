//! The pages people and scrapers read: the HTML summary and the Prometheus metrics.

use std::fmt::Write;
use std::sync::LazyLock;
use std::sync::atomic::Ordering::Relaxed;

use minijinja::Environment;
use serde::Serialize;

use crate::db::{RenderRecord, Totals};
use crate::scoreboard::{RENDER_BUCKETS, Scoreboard};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // The `.html` name turns on HTML auto-escaping for every value the template prints.
    env.add_template("summary.html", include_str!("../templates/summary.html"))
        .expect("the summary template parses (checked by the tests)");
    env
});

/// A render as the summary table shows it.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    record: &'a RenderRecord,
    duration: String,
    max_iter_text: String,
    iterations_text: String,
    bytes_text: String,
}

/// The summary page.
pub fn summary(
    board: &Scoreboard,
    isolation: &str,
    totals: Totals,
    latest: &[RenderRecord],
) -> Result<String, minijinja::Error> {
    let busy = board.workers_busy.load(Relaxed);
    let max = board.max_workers.load(Relaxed).max(1);
    let rows: Vec<Row> = latest
        .iter()
        .map(|r| Row {
            record: r,
            duration: r
                .duration_ms
                .map_or(String::new(), |ms| format!("{ms:.1} ms")),
            max_iter_text: group_thousands(r.max_iter as u64),
            iterations_text: r
                .iterations
                .map_or(String::new(), |n| group_thousands(n as u64)),
            bytes_text: r.bytes.map_or(String::new(), |n| group_thousands(n as u64)),
        })
        .collect();
    TEMPLATES
        .get_template("summary.html")?
        .render(minijinja::context! {
            isolation,
            pid => std::process::id(),
            version => env!("CARGO_PKG_VERSION"),
            workers_busy => busy,
            max_workers => max,
            busy_percent => (busy * 100 / max).min(100),
            connections_accepted => group_thousands(board.connections_accepted.load(Relaxed)),
            accept_paused_total => board.accept_paused_total.load(Relaxed),
            renders_today => group_thousands(totals.renders_today as u64),
            renders_total => group_thousands(totals.renders_total as u64),
            iterations_total => group_thousands(totals.iterations_total as u64),
            tiles_rendered => group_thousands(board.tiles_rendered.load(Relaxed)),
            tiles_cached => group_thousands(board.tiles_cached.load(Relaxed)),
            renders => minijinja::value::Serde(&rows),
        })
}

/// The board in Prometheus's text exposition format (version 0.0.4).
pub fn metrics(board: &Scoreboard) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let responses: Vec<(String, f64)> = board
        .responses()
        .into_iter()
        .map(|(status, n)| (format!("{{status=\"{status}\"}}"), n as f64))
        .collect();
    metric(
        "mandel_http_requests_total",
        "counter",
        "HTTP responses sent, by status code.",
        &responses,
    );
    let plain = [
        (
            "mandel_workers_busy",
            "gauge",
            "Workers alive: processes or connection tasks.",
            &board.workers_busy,
        ),
        (
            "mandel_workers_max",
            "gauge",
            "The cap on workers alive at once.",
            &board.max_workers,
        ),
        (
            "mandel_workers_failed_total",
            "counter",
            "Worker processes that were killed or exited with an error.",
            &board.workers_failed,
        ),
        (
            "mandel_connections_accepted_total",
            "counter",
            "Connections accepted.",
            &board.connections_accepted,
        ),
        (
            "mandel_accept_paused_total",
            "counter",
            "Times accepting stopped because the worker cap was reached.",
            &board.accept_paused_total,
        ),
        (
            "mandel_accept_paused",
            "gauge",
            "1 while accepting is paused at the cap.",
            &board.accept_paused,
        ),
        (
            "mandel_renders_in_flight",
            "gauge",
            "Renders being computed.",
            &board.renders_in_flight,
        ),
    ];
    for (name, kind, help, value) in plain {
        metric(
            name,
            kind,
            help,
            &[(String::new(), value.load(Relaxed) as f64)],
        );
    }
    let tiles = [
        ("render", &board.tiles_rendered),
        ("cache", &board.tiles_cached),
        ("not_modified", &board.tiles_not_modified),
    ];
    let tiles: Vec<(String, f64)> = tiles
        .iter()
        .map(|(source, n)| (format!("{{source=\"{source}\"}}"), n.load(Relaxed) as f64))
        .collect();
    metric(
        "mandel_tiles_total",
        "counter",
        "Map tiles sent, by where they came from (rendered, the tile cache, or 304 Not \
         Modified).",
        &tiles,
    );
    let (buckets, count, sum) = board.render_histogram();
    let mut samples: Vec<(String, f64)> = RENDER_BUCKETS
        .iter()
        .zip(buckets)
        .map(|(le, n)| (format!("_bucket{{le=\"{le}\"}}"), n as f64))
        .collect();
    samples.push(("_bucket{le=\"+Inf\"}".into(), count as f64));
    samples.push(("_sum".into(), sum));
    samples.push(("_count".into(), count as f64));
    metric(
        "mandel_render_seconds",
        "histogram",
        "Time to compute and encode a successful render.",
        &samples,
    );
    out
}

/// `1234567` as `1,234,567`, for people to read (the summary page, and `mandel`'s own
/// summary lines).
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        use super::group_thousands;
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(4_332_069_196), "4,332,069,196");
    }
}
