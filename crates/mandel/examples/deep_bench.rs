//! Kalles Fraktaler 2's benchmark locations, rendered by perturbation on every core: the
//! whole render's time, the reference orbit's alone, and direct arbitrary-precision
//! iteration's time per pixel on a few pixels (whose counts are checked against the
//! perturbed ones). The figures of docs/deep-zoom.md.
//!
//! Usage: cargo run --release -p mandel --example deep_bench -- DIR [SIZE] [DIRECT_PIXELS]
//!        [NAMES]  (DIR holds the .kfr files; SIZE 512 and 2 direct pixels by default; NAMES,
//!        comma-separated file stems, picks some of them)

use std::path::PathBuf;
use std::time::Instant;

use mandel::{Format, Job, KfLocation, Precision};
use mandel_kernel::Stop;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: deep_bench DIR [SIZE] [DIRECT_PIXELS]")?,
    );
    let size: u32 = args.next().map_or(Ok(512), |s| s.parse())?;
    let direct_pixels: u64 = args.next().map_or(Ok(2), |s| s.parse())?;
    let names: Option<Vec<String>> = args
        .next()
        .map(|s| s.split(',').map(String::from).collect());
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
    println!("{size}x{size}, both cores, perturbation with rebasing (no approximation)\n");
    println!(
        "| location | max-iter | bits | reference | total | iterations | per second | direct per pixel | perturbed per pixel | direct checks |"
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
            ..Job::default()
        };
        let deep = job.view.deep(size, size)?;
        let start = Instant::now();
        let orbit = deep.reference(max_iter, mandel_deep::COUNT_BAILOUT, Stop::never())?;
        let reference = start.elapsed();
        let start = Instant::now();
        let grid = job.counts()?;
        let total = start.elapsed();
        let iterations = grid.total_iterations();
        // Direct iteration on a few pixels spread over the picture.
        let pixels = u64::from(size) * u64::from(size);
        let mut agree = 0;
        let start = Instant::now();
        for k in 0..direct_pixels {
            let index = (2 * k + 1) * pixels / (2 * direct_pixels) + u64::from(size) / 2;
            let mut direct = [0];
            deep.direct_span(max_iter, index, Stop::never(), &mut direct)?;
            agree += u64::from(direct[0] == grid.counts()[index as usize]);
        }
        let direct = start.elapsed().as_secs_f64() / direct_pixels.max(1) as f64;
        let name = file.file_stem().unwrap().to_string_lossy();
        println!(
            "| {name} | {max_iter} | {} | {:.2} s ({} steps) | {:.2} s | {:.3e} | {:.3e} | {:.3} s | {:.2e} s | {agree} of {direct_pixels} equal |",
            deep.bits(),
            reference.as_secs_f64(),
            orbit.len() - 1,
            total.as_secs_f64(),
            iterations as f64,
            iterations as f64 / total.as_secs_f64(),
            direct,
            total.as_secs_f64() * 2.0 / pixels as f64,
        );
    }
    Ok(())
}
