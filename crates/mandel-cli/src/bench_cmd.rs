//! `mandel bench`: the seed's comparison, for real. One workload, mapped sequentially, on
//! threads and on worker processes, for several job counts (and optionally the seed's own
//! Python), each run checked to give the same grid.

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mandel::{AtomicFile, Grid, Job, Kernel};
use serde::Serialize;

use crate::UsageError;
use crate::cli::{BenchArgs, PoolKind};
use crate::progress::Progress;
use crate::render_cmd::group_thousands;

/// The seed ported to Python 3, carried inside the binary so that `--python` works anywhere.
const SEED_PY: &str = include_str!("../../../python/seed.py");

#[derive(Debug, Serialize)]
struct Report {
    width: u32,
    height: u32,
    max_iter: u32,
    xmin: f64,
    xmax: f64,
    ymin: f64,
    ymax: f64,
    iterations: u64,
    /// Estimated clock of the benchmarking core, for per-cycle figures.
    clock_hz: Option<f64>,
    rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Row {
    /// "mandel" or "python" (the seed's own code).
    program: &'static str,
    pool: PoolKind,
    kernel: String,
    jobs: usize,
    seconds: Vec<f64>,
    min_s: f64,
    median_s: f64,
    /// Median time of the same program and kernel run sequentially, over this one's.
    speedup: f64,
    /// speedup / jobs.
    efficiency: f64,
    iterations_per_s: f64,
    /// Iterations per second per job, over the clock estimate.
    iterations_per_cycle_per_core: Option<f64>,
    /// The seed's sequential Python median over this one's, when it was timed.
    vs_seed: Option<f64>,
}

struct Config {
    program: &'static str,
    pool: PoolKind,
    kernel: Option<Kernel>,
    jobs: NonZeroUsize,
    repeat: u32,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let base = args.grid.job()?;
    base.check()?;
    let vp = base.viewport()?;
    if let Some(plot) = &args.plot
        && plot.extension().and_then(|e| e.to_str()) != Some("svg")
    {
        return Err(UsageError(format!(
            "--plot {}: only .svg plots are drawn",
            plot.display()
        ))
        .into());
    }
    let cores = mandel::available_cores().get();
    let jobs: Vec<NonZeroUsize> = if args.jobs.is_empty() {
        (1..=cores).filter_map(NonZeroUsize::new).collect()
    } else {
        args.jobs.clone()
    };

    let mut configs = Vec::new();
    for &kernel in &args.kernels {
        for &pool in &args.pools {
            // Sequential has no job count: time it once.
            let pool_jobs: &[NonZeroUsize] = if pool == PoolKind::Sequential {
                &[NonZeroUsize::MIN]
            } else {
                &jobs
            };
            for &j in pool_jobs {
                configs.push(Config {
                    program: "mandel",
                    pool,
                    kernel: Some(kernel),
                    jobs: j,
                    repeat: args.repeat,
                });
            }
        }
    }
    if args.python {
        configs.push(Config {
            program: "python",
            pool: PoolKind::Sequential,
            kernel: None,
            jobs: NonZeroUsize::MIN,
            repeat: args.python_repeat,
        });
        for &j in &jobs {
            configs.push(Config {
                program: "python",
                pool: PoolKind::Processes,
                kernel: None,
                jobs: j,
                repeat: args.python_repeat,
            });
        }
    }

    // Start Python early so that a missing interpreter fails before the long runs.
    let python_dir = if args.python {
        Some(write_seed_script()?)
    } else {
        None
    };

    let total: u64 = configs.iter().map(|c| u64::from(c.repeat)).sum();
    let progress = Progress::new(total, "runs", args.quiet);
    let clock_hz = mandel_kernel::clock::estimate_hz();
    let mut reference: Option<Grid> = None;
    let mut measured = Vec::new();
    for config in &configs {
        let mut seconds = Vec::new();
        for _ in 0..config.repeat {
            let (secs, grid) = match config.kernel {
                Some(kernel) => {
                    let job = Job {
                        kernel,
                        shortcuts: crate::render_cmd::shortcuts(args.no_shortcuts),
                        pool: crate::render_cmd::pool(config.pool, config.jobs)?,
                        ..base.clone()
                    };
                    let start = Instant::now();
                    let grid = job.counts()?;
                    (start.elapsed().as_secs_f64(), grid)
                }
                None => run_python(python_dir.as_ref().unwrap().path(), &vp, &base, config)?,
            };
            match &reference {
                None => reference = Some(grid),
                Some(r) if *r != grid => bail!(
                    "{} {} -j {} gave a different grid from the first run: a bug, please report it",
                    config.program,
                    pool_name(config.pool),
                    config.jobs
                ),
                Some(_) => {}
            }
            seconds.push(secs);
            progress.inc(1);
        }
        measured.push(seconds);
    }
    progress.finish();

    let reference = reference.expect("at least one run");
    let iterations = reference.total_iterations();
    let rows = summarise(&configs, measured, iterations, clock_hz);
    let b = vp.bounds();
    let report = Report {
        width: vp.width(),
        height: vp.height(),
        max_iter: base.max_iter,
        xmin: b.xmin,
        xmax: b.xmax,
        ymin: b.ymin,
        ymax: b.ymax,
        iterations,
        clock_hz,
        rows,
    };
    print_table(&report);
    if let Some(path) = &args.json {
        write_atomic(path, |w| {
            Ok(serde_json::to_writer_pretty(&mut *w, &report)?)
        })?;
    }
    if let Some(path) = &args.csv {
        write_atomic(path, |w| write_csv(w, &report))?;
    }
    if let Some(path) = &args.plot {
        write_atomic(path, |w| Ok(w.write_all(plot_svg(&report)?.as_bytes())?))?;
    }
    Ok(())
}

fn pool_name(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Sequential => "sequential",
        PoolKind::Threads => "threads",
        PoolKind::Processes => "processes",
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn summarise(
    configs: &[Config],
    measured: Vec<Vec<f64>>,
    iterations: u64,
    clock_hz: Option<f64>,
) -> Vec<Row> {
    let medians: Vec<f64> = measured.iter().map(|m| median(m)).collect();
    let seed_sequential = configs
        .iter()
        .zip(&medians)
        .find(|(c, _)| c.program == "python" && c.pool == PoolKind::Sequential)
        .map(|(_, &m)| m);
    configs
        .iter()
        .zip(measured)
        .zip(&medians)
        .map(|((c, seconds), &median_s)| {
            // The baseline: the same program and kernel, sequential; else its fewest jobs.
            let same = |o: &&Config| o.program == c.program && o.kernel == c.kernel;
            let baseline = configs
                .iter()
                .zip(&medians)
                .filter(|(o, _)| same(o))
                .min_by_key(|(o, _)| (o.pool != PoolKind::Sequential, o.jobs))
                .map(|(_, &m)| m)
                .unwrap_or(median_s);
            let speedup = baseline / median_s;
            let jobs = c.jobs.get();
            let per_s = iterations as f64 / median_s;
            Row {
                program: c.program,
                pool: c.pool,
                kernel: c
                    .kernel
                    .map_or_else(|| "cpython".into(), |k| k.name().into()),
                jobs,
                min_s: seconds.iter().copied().fold(f64::MAX, f64::min),
                median_s,
                seconds,
                speedup,
                efficiency: speedup / jobs as f64,
                iterations_per_s: per_s,
                iterations_per_cycle_per_core: clock_hz.map(|hz| per_s / jobs as f64 / hz),
                vs_seed: seed_sequential.map(|s| s / median_s),
            }
        })
        .collect()
}

fn print_table(report: &Report) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}x{} max-iter {}, {} iterations{}",
        report.width,
        report.height,
        report.max_iter,
        group_thousands(report.iterations),
        report
            .clock_hz
            .map_or(String::new(), |hz| format!(", clock ~{:.2} GHz", hz / 1e9)),
    );
    let _ = writeln!(
        out,
        "{:<8} {:<11} {:<8} {:>4} {:>10} {:>10} {:>8} {:>6} {:>10} {:>11} {:>9}",
        "program",
        "pool",
        "kernel",
        "jobs",
        "min s",
        "median s",
        "speed-up",
        "eff.",
        "iter/s",
        "iter/cyc/c",
        "vs seed"
    );
    for r in &report.rows {
        let _ = writeln!(
            out,
            "{:<8} {:<11} {:<8} {:>4} {:>10.4} {:>10.4} {:>7.2}x {:>5.0}% {:>10} {:>11} {:>9}",
            r.program,
            pool_name(r.pool),
            r.kernel,
            r.jobs,
            r.min_s,
            r.median_s,
            r.speedup,
            r.efficiency * 100.0,
            format!("{:.3e}", r.iterations_per_s),
            r.iterations_per_cycle_per_core
                .map_or("-".into(), |v| format!("{v:.3}")),
            r.vs_seed.map_or("-".into(), |v| format!("{v:.0}x")),
        );
    }
}

fn write_csv(w: &mut dyn Write, report: &Report) -> Result<()> {
    writeln!(
        w,
        "program,pool,kernel,jobs,min_s,median_s,speedup,efficiency,iterations_per_s,iterations_per_cycle_per_core,vs_seed"
    )?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in &report.rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            r.program,
            pool_name(r.pool),
            r.kernel,
            r.jobs,
            r.min_s,
            r.median_s,
            r.speedup,
            r.efficiency,
            r.iterations_per_s,
            opt(r.iterations_per_cycle_per_core),
            opt(r.vs_seed)
        )?;
    }
    Ok(())
}

fn plot_svg(report: &Report) -> Result<String> {
    use plotters::prelude::*;
    let max_jobs = report.rows.iter().map(|r| r.jobs).max().unwrap_or(1).max(2) as f64;
    let max_speedup = report
        .rows
        .iter()
        .map(|r| r.speedup)
        .fold(max_jobs, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 480)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "speed-up over sequential, {}x{} max-iter {}",
                    report.width, report.height, report.max_iter
                ),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.5..max_jobs + 0.5, 0.0..max_speedup * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("jobs")
            .y_desc("speed-up")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                [(1.0, 1.0), (max_jobs, max_jobs)],
                BLACK.stroke_width(1),
            ))?
            .label("ideal")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for r in report
            .rows
            .iter()
            .filter(|r| r.pool != PoolKind::Sequential)
        {
            let name = format!("{} {} ({})", r.program, pool_name(r.pool), r.kernel);
            match series.iter_mut().find(|(n, _)| *n == name) {
                Some((_, pts)) => pts.push((r.jobs as f64, r.speedup)),
                None => series.push((name, vec![(r.jobs as f64, r.speedup)])),
            }
        }
        for (i, (name, pts)) in series.into_iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = std::io::BufWriter::new(file.file());
        write(&mut w)?;
        w.flush()?;
    }
    file.commit()?;
    Ok(())
}

fn write_seed_script() -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("seed.py"), SEED_PY)?;
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Err(UsageError("--python needs python3 on the PATH".into()).into());
    }
    Ok(dir)
}

/// Runs the seed's Python once; returns the seconds its map took (its own timer, excluding
/// interpreter start-up) and its counts.
fn run_python(
    dir: &Path,
    vp: &mandel::Viewport,
    job: &Job,
    config: &Config,
) -> Result<(f64, Grid)> {
    let b = vp.bounds();
    let counts_path = dir.join("counts.bin");
    let mut cmd = Command::new("python3");
    cmd.arg(dir.join("seed.py"))
        .arg(format!("--width={}", vp.width()))
        .arg(format!("--height={}", vp.height()))
        .arg(format!("--max-iter={}", job.max_iter))
        .arg(format!("--xmin={:?}", b.xmin))
        .arg(format!("--xmax={:?}", b.xmax))
        .arg(format!("--ymin={:?}", b.ymin))
        .arg(format!("--ymax={:?}", b.ymax))
        .arg("--out")
        .arg(&counts_path);
    match config.pool {
        PoolKind::Sequential => cmd.args(["--pool", "sequential"]),
        _ => cmd.args(["--pool", "processes", "--jobs", &config.jobs.to_string()]),
    };
    let out = cmd.output().context("running python3")?;
    if !out.status.success() {
        bail!(
            "the seed's Python failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let secs: f64 = String::from_utf8_lossy(&out.stderr)
        .trim()
        .lines()
        .last()
        .and_then(|l| l.parse().ok())
        .context("the seed's Python did not report its time")?;
    let bytes = std::fs::read(&counts_path)?;
    let counts = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let grid = Grid::from_counts(vp.width(), vp.height(), counts)?;
    Ok((secs, grid))
}
