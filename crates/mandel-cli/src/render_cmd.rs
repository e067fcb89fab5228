//! `mandel render`.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use mandel::output::group_thousands;
use mandel::{AtomicFile, Engine, Format, Pool, Shortcuts};

use crate::UsageError;
use crate::cli::{PoolKind, RenderArgs};
use crate::interrupt::{self, PendingFile};
use crate::progress::Progress;

pub fn run(args: RenderArgs) -> Result<()> {
    if let Some(from) = &args.from {
        return run(args_from_picture(from, &args)?);
    }
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
    let style = mandel::Style {
        mode: args.color,
        colormap: args.colormap,
        cycle: args.cycle,
        offset: args.offset,
        inside: args.inside,
        supersample: args.supersample,
    };
    style.validate()?;
    if style.supersample > 1 && !format.uses_colormap() {
        return Err(UsageError(format!(
            "--supersample {} makes pictures (png, jpeg, ppm); {format} holds the exact counts",
            style.supersample
        ))
        .into());
    }

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
    let engine = |pool| Engine {
        shortcuts: shortcuts(args.no_shortcuts),
        ..Engine::new(pool, args.kernel)
    };
    let (iterations, elapsed) = if format == Format::Pbm && args.pool != PoolKind::Processes {
        // A PBM is streamed: bands are written as they finish and the count grid is never
        // held, so memory stays small however large the picture (the time includes writing).
        let pool = match args.pool {
            PoolKind::Sequential => Pool::Sequential,
            _ => Pool::Threads { jobs },
        };
        let out: Box<dyn Write + Send> = match file.as_mut() {
            Some(f) => Box::new(f.file()),
            None => Box::new(std::io::stdout()),
        };
        let on_rows = |rows: u32| progress.inc(rows.into());
        let iterations = mandel::output::stream_pbm(&params, &engine(pool), out, &on_rows)?;
        progress.finish();
        (iterations, start.elapsed())
    } else {
        let on_band = |band: mandel::Band| progress.inc(band.rows().into());
        let grid = render_with(
            &params,
            args.pool,
            jobs,
            args.kernel,
            shortcuts(args.no_shortcuts),
            &on_band,
        )?;
        let elapsed = start.elapsed();
        progress.finish();

        let out: Box<dyn Write> = match file.as_mut() {
            Some(f) => Box::new(f.file()),
            None => Box::new(std::io::stdout().lock()),
        };
        if format.uses_colormap() {
            let rgb = mandel::style::paint(
                &params,
                &engine(Pool::Threads { jobs }),
                &style,
                Some(&grid),
            )?;
            let text = mandel::output::picture_params(&params, &style);
            let (w, h) = (grid.width(), grid.height());
            mandel::output::write_picture(&rgb, w, h, format, Some(&text), out)?;
        } else {
            mandel::output::write_counts(&grid, format, params.max_iter, out)?;
        }
        (grid.total_iterations(), elapsed)
    };
    if let Some(f) = file {
        f.commit()?;
    }

    if !args.quiet {
        let secs = elapsed.as_secs_f64();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}x{} max-iter {} ({}, {}): {} iterations in {:.3} s, {}/s -> {}",
            params.viewport.width(),
            params.viewport.height(),
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

/// The render options stored in `picture`, with this command's output and how-to-run options.
fn args_from_picture(picture: &Path, args: &RenderArgs) -> Result<RenderArgs> {
    let text = mandel::output::read_picture_params(picture)?.ok_or_else(|| {
        UsageError(format!(
            "--from {}: the file carries no mandel parameters",
            picture.display()
        ))
    })?;
    let stored = text
        .strip_prefix(mandel::output::PARAMS_PREFIX)
        .or_else(|| text.split_once(" render ").map(|(_, rest)| rest))
        .ok_or_else(|| {
            UsageError(format!(
                "--from {}: unreadable parameters {text:?}",
                picture.display()
            ))
        })?;
    let mut argv: Vec<std::ffi::OsString> = vec!["mandel".into(), "render".into()];
    argv.extend(stored.split(' ').map(Into::into));
    argv.extend(["-o".into(), args.output.clone().into_os_string()]);
    if let Some(f) = args.format {
        argv.push(format!("--format={f}").into());
    }
    if args.quiet {
        argv.push("--quiet".into());
    }
    let cli = crate::cli::Cli::try_parse_from(argv)
        .map_err(|e| UsageError(format!("--from {}: {}", picture.display(), e.kind())))?;
    let crate::cli::Command::Render(mut again) = cli.command else {
        unreachable!("parsed as render")
    };
    (again.pool, again.jobs, again.kernel) = (args.pool, args.jobs, args.kernel);
    again.no_shortcuts = args.no_shortcuts;
    Ok(again)
}

/// Renders on the chosen pool: the library's threads or sequential loop, or worker processes
/// running this same binary's hidden `worker` subcommand.
pub fn render_with(
    params: &mandel::Params,
    pool: PoolKind,
    jobs: NonZeroUsize,
    kernel: mandel::Kernel,
    shortcuts: Shortcuts,
    on_band: &(dyn Fn(mandel::Band) + Sync),
) -> Result<mandel::Grid> {
    let engine = |pool| Engine {
        shortcuts,
        ..Engine::new(pool, kernel)
    };
    Ok(match pool {
        PoolKind::Sequential => mandel::render(params, &engine(Pool::Sequential), on_band)?,
        PoolKind::Threads => mandel::render(params, &engine(Pool::Threads { jobs }), on_band)?,
        PoolKind::Processes => {
            let cmd = mandel::process_pool::WorkerCommand {
                program: std::env::current_exe()?,
                args: vec!["worker".into()],
            };
            mandel::process_pool::render(params, kernel, shortcuts, jobs, &cmd, on_band)?
        }
    })
}

pub fn shortcuts(no_shortcuts: bool) -> Shortcuts {
    if no_shortcuts {
        Shortcuts::Off
    } else {
        Shortcuts::On
    }
}

pub fn pool_label(pool: PoolKind, jobs: NonZeroUsize) -> String {
    let plural = if jobs.get() == 1 { "" } else { "s" };
    match pool {
        PoolKind::Sequential => "sequential".into(),
        PoolKind::Threads => format!("{jobs} thread{plural}"),
        PoolKind::Processes => format!(
            "{jobs} process{}",
            if plural.is_empty() { "" } else { "es" }
        ),
    }
}

fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M", x / 1e6),
        x if x >= 1e3 => format!("{:.2} k", x / 1e3),
        x => format!("{x:.0} "),
    }
}
