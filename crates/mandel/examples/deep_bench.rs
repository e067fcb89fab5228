//! Kalles Fraktaler 2's benchmark locations, rendered by perturbation on every core: the
//! whole render's time, the reference orbit's and the BLA table's alone, the iterations
//! stepped per pixel against those skipped, the process's peak memory, and direct
//! arbitrary-precision iteration on a grid of pixels, at the view's precision and 64 bits
//! more (where the two agree, the pixel is stable and its count is checked against the
//! perturbed one; the others are reported as unsure). The figures of docs/deep-zoom.md;
//! `scripts/deep_bench.sh` runs one process per location, so that each peak is its own.
//!
//! Usage: cargo run --release -p mandel --example deep_bench -- DIR [SIZE] [DIRECT_PIXELS]
//!        [NAMES] [plain]  (DIR holds the .kfr files; SIZE 512 and a grid of 4 direct
//!        pixels by default; NAMES, comma-separated file stems or `all`, picks some of them;
//!        `plain` turns BLA off, as `--no-shortcuts` does); MANDEL_KERNEL picks the lanes'
//!        kernel, as for the command

use std::path::PathBuf;
use std::time::Instant;

use mandel::{Format, Job, Kernel, KfLocation, Precision, Shortcuts};
use mandel_kernel::Stop;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: deep_bench DIR [SIZE] [DIRECT_PIXELS] [NAMES] [plain]";
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let size: u32 = args.next().map_or(Ok(512), |s| s.parse())?;
    let direct_pixels: u64 = args.next().map_or(Ok(4), |s| s.parse())?;
    let names: Option<Vec<String>> = args
        .next()
        .filter(|s| s != "all")
        .map(|s| s.split(',').map(String::from).collect());
    let shortcuts = match args.next().as_deref() {
        None => Shortcuts::On,
        Some("plain") => Shortcuts::Off,
        Some(other) => return Err(format!("{other}: {usage}").into()),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "kfr"));
    if let Some(names) = &names {
        files.retain(|p| {
            names
                .iter()
                .any(|n| p.file_stem().is_some_and(|s| s == n.as_str()))
        });
    }
    // Shallowest first.
    files.sort_by_key(|p| {
        KfLocation::read(p).map_or(0, |l| {
            l.zoom
                .to_ascii_lowercase()
                .split('e')
                .nth(1)
                .and_then(|e| e.parse::<i64>().ok())
                .unwrap_or(0)
        })
    });
    // The lanes' kernel: MANDEL_KERNEL, as the command reads it, or the best.
    let kernel = match std::env::var(mandel::KERNEL_ENV) {
        Ok(name) => Kernel::select(&name)?,
        Err(_) => Kernel::best(),
    };
    let how = match shortcuts {
        Shortcuts::On => "with bivariate approximation (BLA, second order)",
        Shortcuts::Off => "without BLA (every iteration stepped)",
    };
    println!("{size}x{size}, both cores, perturbation with rebasing, {how}, {kernel} lanes\n");
    println!(
        "| location | max-iter | bits | reference | BLA table | total | stepped per pixel | skipped | peak memory | direct checks |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for file in files {
        let location = KfLocation::read(&file)?;
        let max_iter = location.iterations.unwrap_or(1000);
        let job = Job {
            view: location.view(size, size)?,
            width: size,
            height: size,
            max_iter,
            precision: Precision::Perturbation,
            format: Format::Npy,
            shortcuts,
            kernel,
            ..Job::default()
        };
        // The reference and table alone, timed apart (the render makes its own again).
        let deep = job.view.deep(size, size)?;
        let start = Instant::now();
        let orbit = deep.reference(max_iter, mandel_deep::COUNT_BAILOUT, Stop::never())?;
        let reference = start.elapsed();
        let start = Instant::now();
        let table = (shortcuts == Shortcuts::On).then(|| deep.bla(&orbit));
        let table_time = start.elapsed();
        let table_text = match &table {
            Some(t) => format!("{:.3} s ({} maps)", table_time.as_secs_f64(), t.len()),
            None => "none".into(),
        };
        let steps = orbit.len() - 1;
        drop((orbit, table));

        let start = Instant::now();
        let (grid, summary) = job.counts_with_summary()?;
        let total = start.elapsed();
        let iterations = grid.total_iterations();
        let pixels = u64::from(size) * u64::from(size);
        // Direct iteration on a grid of pixels over the picture (g×g, the largest square of
        // at most DIRECT_PIXELS), on every core, at the view's precision and 64 bits more:
        // the pixels whose two direct counts agree are the stable ones that the accuracy
        // criterion compares.
        let finer = deep.with_bits(deep.bits() + 64);
        let direct = |index: usize| -> Result<Check, mandel_kernel::Stopped> {
            let (mut direct, mut check) = ([0], [0]);
            deep.direct_span(max_iter, index as u64, Stop::never(), &mut direct)?;
            finer.direct_span(max_iter, index as u64, Stop::never(), &mut check)?;
            Ok(Check {
                index,
                direct: direct[0],
                stable: direct == check,
            })
        };
        let g = direct_pixels.isqrt() as usize;
        let at = |k: usize| (2 * k + 1) * size as usize / (2 * g);
        let checks = (0..g * g)
            .into_par_iter()
            .map(|k| direct(at(k / g) * size as usize + at(k % g)))
            .collect::<Result<Vec<_>, _>>()?;
        let peak = peak_memory().unwrap_or_else(|| "?".into());
        let stable: Vec<&Check> = checks.iter().filter(|c| c.stable).collect();
        let (agree, differ): (Vec<&Check>, Vec<&Check>) = stable
            .iter()
            .partition(|c| c.direct == grid.counts()[c.index]);
        let mut result = format!("{} of {} equal", agree.len(), stable.len());
        if checks.len() > stable.len() {
            result += &format!(" ({} unsure)", checks.len() - stable.len());
        }
        if !differ.is_empty() && shortcuts == Shortcuts::On {
            // Whether perturbation without BLA is off at those pixels too: then it is the
            // double delta's precision, not the skips.
            let orbit = deep.reference(max_iter, mandel_deep::COUNT_BAILOUT, Stop::never())?;
            let mut plain_differ = 0;
            for c in &differ {
                let mut plain = [0];
                let from = c.index as u64;
                deep.perturbed_span(
                    &orbit,
                    None,
                    Kernel::Scalar,
                    from,
                    Stop::never(),
                    &mut plain,
                )?;
                plain_differ += usize::from(plain[0] != c.direct);
            }
            result += &format!(
                "; without BLA, {plain_differ} of the {} differ too",
                differ.len()
            );
        }
        let name = file.file_stem().unwrap().to_string_lossy();
        println!(
            "| {name} | {max_iter} | {} | {:.2} s ({steps} steps) | {table_text} | {:.2} s | {:.0} of {:.0} | {:.2}% | {peak} | {result} |",
            deep.bits(),
            reference.as_secs_f64(),
            total.as_secs_f64(),
            summary.computed as f64 / pixels as f64,
            iterations as f64 / pixels as f64,
            100.0 * (1.0 - summary.computed as f64 / iterations.max(1) as f64),
        );
    }
    Ok(())
}

/// One pixel checked by direct iteration: its index, its direct count, and whether that count
/// is the same 64 bits finer.
struct Check {
    index: usize,
    direct: u32,
    stable: bool,
}

/// This process's peak resident memory so far (Linux's VmHWM).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{} MB", kb / 1024))
}
