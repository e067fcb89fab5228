//! `mandel render`: options, then a job, then the library's pipeline, then a summary line.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use mandel::{Format, Job, Pool, Shortcuts};

use crate::UsageError;
use crate::cli::{Given, PoolKind, RenderArgs};
use crate::interrupt::Output;
use crate::progress::Progress;
pub use mandel_server::pages::group_thousands;

pub fn run(args: RenderArgs, given: &Given) -> Result<()> {
    let to_stdout = args.output == Path::new("-");
    let format = match args.shard {
        Some(shard) => {
            check_shard_output(&args.output, shard)?;
            // (A shard holds samples: the merge chooses the format.)
            Format::Png
        }
        None => output_format(args.format, &args.output)?,
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
    let mut job = match &args.from {
        Some(file) if is_kfr(file) => {
            // KF's location; the size, the style and any --max-iter come from this command.
            let location = mandel::KfLocation::read(file)?;
            let mut job = Job {
                style,
                ..args.grid.job()?
            };
            job.view = location.view(job.width, job.height)?;
            if let (Some(n), false) = (location.iterations, given.has("max_iter")) {
                job.max_iter = n;
            }
            job
        }
        Some(picture) => {
            // The picture's parameters; how to run it and where it goes come from this
            // command.
            if let Some(option) = PICTURE_PARAMETERS.iter().find(|o| given.has(o)) {
                return Err(UsageError(format!(
                    "--{} cannot be used with --from {}: the picture carries its own",
                    option.replace('_', "-"),
                    picture.display()
                ))
                .into());
            }
            let mut job = Job::from_picture(picture)?;
            if given.has("precision") {
                job.precision = args.grid.precision;
            }
            job
        }
        None => Job {
            style,
            ..args.grid.job()?
        },
    };
    job.format = format;
    job.kernel = args.kernel;
    job.shortcuts = shortcuts(args.no_shortcuts);
    job.pool = pool(args.pool, jobs)?;
    job.streaming = args.stream;
    // Every value is checked before the output is opened.
    job.check()?;
    if let Some(warning) = job.warning() {
        eprintln!("mandel: warning: {warning}");
    }
    // (From here: the deadline counts the render, not the parsing.)
    job.deadline = args.timeout.map(|t| std::time::Instant::now() + t);

    let mut output = Output::open(&args.output)?;
    let progress = Arc::new(Progress::new(0, "rows", args.quiet));
    // Only a bar that may be drawn hears of progress: no callback per band otherwise.
    if progress.is_enabled() {
        let bar = progress.clone();
        job.progress = Some(Arc::new(move |done, total| bar.set(done, total)));
    }

    let summary = match args.shard {
        // (A shard's output is a file: checked above.)
        Some(shard) => job.run_shard(shard, output.writer())?,
        None => job.run(output.writer())?,
    };
    progress.finish();
    output.commit()?;

    if !args.quiet {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}x{} max-iter {} ({}, {}): {} iterations, {} computed in {:.3} s ({}/s) -> {}",
            summary.width,
            summary.rows,
            job.max_iter,
            pool_label(args.pool, jobs),
            match job.arithmetic()? {
                mandel::Precision::Double => args.kernel.to_string(),
                deep => deep.to_string(),
            },
            group_thousands(summary.iterations),
            group_thousands(summary.computed),
            summary.compute_time.as_secs_f64(),
            si(summary.computed_per_second()),
            if to_stdout {
                "stdout".into()
            } else {
                args.output.display().to_string()
            },
        );
        if let Some(shard) = args.shard {
            let rows = shard.rows(job.height);
            let _ = writeln!(
                err,
                "shard {shard}: rows {}..{} of {}; merge the {} shards with mandel merge",
                rows.start,
                rows.end,
                job.height,
                shard.count()
            );
        }
    }
    Ok(())
}

/// The format to write to `output`: `format` if given, else the one its extension names.
pub fn output_format(format: Option<Format>, output: &Path) -> Result<Format> {
    match format {
        Some(f) => Ok(f),
        None if output == Path::new("-") => {
            Err(UsageError("--format is required when the output is - (stdout)".into()).into())
        }
        None => Ok(Format::from_path(output)?),
    }
}

/// Refuses an output for `shard` that is not a file named `*.shard`.
fn check_shard_output(output: &Path, shard: mandel::Shard) -> Result<()> {
    let is_shard = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("shard"));
    if is_shard {
        return Ok(());
    }
    Err(mandel::Error::invalid(
        mandel::Field::Output,
        output.display(),
        format!("cannot hold shard {shard}: a shard is written to a file named FILE.shard"),
    )
    .into())
}

/// The options whose values a picture given to `--from` carries.
const PICTURE_PARAMETERS: [&str; 9] = [
    "width",
    "height",
    "max_iter",
    "colormap",
    "color",
    "cycle",
    "offset",
    "inside",
    "supersample",
];

/// Whether `path` names a Kalles Fraktaler location file.
fn is_kfr(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("kfr"))
}

/// The library's pool for `--pool` and `--jobs`: processes run this same binary's hidden
/// `worker` subcommand.
pub fn pool(kind: PoolKind, jobs: NonZeroUsize) -> Result<Pool> {
    Ok(match kind {
        PoolKind::Sequential => Pool::Sequential,
        PoolKind::Threads => Pool::Threads { jobs },
        PoolKind::Processes => Pool::Processes {
            jobs,
            worker: mandel::WorkerCommand {
                program: std::env::current_exe()?,
                args: vec!["worker".into()],
            },
        },
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
