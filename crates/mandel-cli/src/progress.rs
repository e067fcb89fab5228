//! A progress bar on stderr, only for a person watching: never when stderr is not a terminal,
//! never for a job that finishes before the bar would be worth drawing.

use std::io::IsTerminal;
use std::sync::Once;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Jobs shorter than this finish without a bar flashing up.
const SHOW_AFTER: Duration = Duration::from_millis(300);

pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: Once,
}

impl Progress {
    pub fn new(total: u64, unit: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} (eta {{eta}})"
            ))
            .expect("static template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            start: Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            shown: Once::new(),
        }
    }

    /// `n` more units done; safe to call from any thread.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        self.show_when_due();
    }

    /// `done` units of `total` done; safe to call from any thread.
    pub fn set(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.show_when_due();
    }

    fn show_when_due(&self) {
        if self.enabled && self.start.elapsed() >= SHOW_AFTER {
            self.shown
                .call_once(|| self.bar.set_draw_target(ProgressDrawTarget::stderr()));
        }
    }

    /// Whether a bar may be drawn at all (not quiet, stderr a terminal).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
