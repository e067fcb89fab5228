//! `mandel render`.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use mandel::{AtomicFile, Encoding, Engine, Format, Pool};

use crate::UsageError;
use crate::cli::{PoolKind, RenderArgs};
use crate::interrupt::{self, PendingFile};
use crate::progress::Progress;

pub fn run(args: RenderArgs) -> Result<()> {
    let params = args.grid.params()?;
    let to_stdout = args.output == Path::new("-");
    let format = match (args.format, to_stdout) {
        (Some(f), _) => f,
        (None, true) => {
            return Err(
                UsageError("--format is required when the output is - (stdout)".into()).into(),
            );
        }
        (None, false) => Format::from_path(&args.output)?,
    };
    let jobs = args.jobs.unwrap_or_else(mandel::available_cores);
    let encoding = Encoding {
        format,
        colormap: args.colormap,
        max_iter: params.max_iter,
    };

    // Open the output before the work, so that an unwritable path fails at once.
    interrupt::install();
    let mut file = if to_stdout {
        None
    } else {
        Some(AtomicFile::create(&args.output)?)
    };
    let _pending = file.as_ref().map(|f| PendingFile::new(f.temp_path()));

    let progress = Progress::new(params.viewport.height().into(), "rows", args.quiet);
    let start = Instant::now();
    let on_rows = |rows: u32| progress.inc(rows.into());
    let grid = render_with(&params, args.pool, jobs, args.kernel, &on_rows)?;
    let elapsed = start.elapsed();
    progress.finish();

    match file.as_mut() {
        Some(f) => mandel::output::write(&grid, &encoding, f.file())?,
        None => {
            let stdout = std::io::stdout().lock();
            mandel::output::write(&grid, &encoding, stdout)?;
        }
    }
    if let Some(f) = file {
        f.commit()?;
    }

    if !args.quiet {
        let iterations = grid.total_iterations();
        let secs = elapsed.as_secs_f64();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}x{} max-iter {} ({}, {}): {} iterations in {:.3} s, {}/s -> {}",
            grid.width(),
            grid.height(),
            params.max_iter,
            pool_label(args.pool, jobs),
            args.kernel,
            group_thousands(iterations),
            secs,
            si(iterations as f64 / secs.max(1e-9)),
            if to_stdout {
                "stdout".into()
            } else {
                args.output.display().to_string()
            },
        );
    }
    Ok(())
}

/// Renders on the chosen pool: the library's threads or sequential loop, or worker processes
/// running this same binary's hidden `worker` subcommand.
pub fn render_with(
    params: &mandel::Params,
    pool: PoolKind,
    jobs: NonZeroUsize,
    kernel: mandel::Kernel,
    on_rows: &(dyn Fn(u32) + Sync),
) -> Result<mandel::Grid> {
    let engine = |pool| Engine { pool, kernel };
    Ok(match pool {
        PoolKind::Sequential => mandel::render(params, &engine(Pool::Sequential), on_rows)?,
        PoolKind::Threads => mandel::render(params, &engine(Pool::Threads { jobs }), on_rows)?,
        PoolKind::Processes => {
            let cmd = mandel::process_pool::WorkerCommand {
                program: std::env::current_exe()?,
                args: vec!["worker".into()],
            };
            mandel::process_pool::render(params, kernel, jobs, &cmd, on_rows)?
        }
    })
}

pub fn pool_label(pool: PoolKind, jobs: NonZeroUsize) -> String {
    match pool {
        PoolKind::Sequential => "sequential".into(),
        PoolKind::Threads => format!("{jobs} threads"),
        PoolKind::Processes => format!("{jobs} processes"),
    }
}

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

fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M", x / 1e6),
        x if x >= 1e3 => format!("{:.2} k", x / 1e3),
        x => format!("{x:.0} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(4_332_069_196), "4,332,069,196");
    }
}
