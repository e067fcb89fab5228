//! Where the seed's doubles stop being faithful to the set: for views from zoom 1 to 1e13,
//! the share of pixels whose double-precision count (the seed's arithmetic) and whose
//! perturbed count equal the count of direct iteration in arbitrary precision. A pixel
//! whose direct count changes between P and P + 64 bits is numerically undefined and left
//! out. The figures behind `--precision auto` (docs/deep-zoom.md).
//!
//! Usage: cargo run --release -p mandel --example precision [WIDTH HEIGHT]

use mandel::{Job, Precision, View};
use mandel_kernel::Stop;

fn main() -> Result<(), mandel::Error> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (width, height) = (*args.first().unwrap_or(&64), *args.get(1).unwrap_or(&48));
    let places: [(&str, f64, f64, u32, &[f64]); 3] = [
        ("seed's view", -0.75, 0.0, 1000, &[1.0]),
        (
            "seahorse valley",
            -0.743643887037151,
            0.131825904205330,
            5000,
            &[1e2, 1e4, 1e5, 1e6, 1e7, 1e9, 1e11, 1e13],
        ),
        (
            "near -1.7492",
            -1.7492,
            0.0000135,
            5000,
            &[1e2, 1e4, 1e6, 1e8, 1e10, 7e11, 1e13],
        ),
    ];
    println!("{width}x{height}; equal counts as a share of the stable pixels\n");
    println!("| view | zoom | max-iter | stable | doubles | perturbation | auto picks |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (name, re, im, max_iter, zooms) in places {
        for &zoom in zooms {
            let job = |precision| Job {
                view: if zoom == 1.0 && name == "seed's view" {
                    View::seed()
                } else {
                    View::centered(re, im, zoom)
                },
                width,
                height,
                max_iter,
                precision,
                ..Job::default()
            };
            let doubles = job(Precision::Double).counts()?;
            let perturbed = job(Precision::Perturbation).counts()?;
            let direct = job(Precision::Direct).counts()?;
            let deep = job(Precision::Direct).view.deep(width, height)?;
            let finer = deep.with_bits(deep.bits() + 64);
            let mut check = vec![0; (width * height) as usize];
            finer
                .direct_span(max_iter, 0, Stop::never(), &mut check)
                .expect("never stopped");
            let (mut stable, mut d_eq, mut p_eq) = (0, 0, 0);
            for (i, &truth) in check.iter().enumerate() {
                if direct.counts()[i] != truth {
                    continue;
                }
                stable += 1;
                d_eq += usize::from(doubles.counts()[i] == truth);
                p_eq += usize::from(perturbed.counts()[i] == truth);
            }
            let pct = |n: usize| 100.0 * n as f64 / stable.max(1) as f64;
            println!(
                "| {name} | {zoom:e} | {max_iter} | {stable} | {:.2}% | {:.2}% | {} |",
                pct(d_eq),
                pct(p_eq),
                job(Precision::Auto).arithmetic()?
            );
        }
    }
    Ok(())
}
