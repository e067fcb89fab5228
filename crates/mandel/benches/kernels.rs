//! Each kernel this CPU has on fixed workloads, one thread: iterations per second (criterion's
//! throughput) and, printed first, the clock estimate that turns them into iterations per
//! cycle. Every iteration is done (no shortcuts), so that the figures measure the kernels;
//! `KERNEL+shortcuts` adds the default proven shortcuts, whose skipped iterations still count
//! in the throughput. Run: `cargo bench -p mandel --bench kernels`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mandel::{Bounds, Kernel, Params, Shortcuts, Viewport};

fn workloads() -> Vec<(&'static str, Params)> {
    let view = |xmin, xmax, ymin, ymax, w, h, max_iter| {
        Params::new(
            Viewport::new(
                Bounds {
                    xmin,
                    xmax,
                    ymin,
                    ymax,
                },
                w,
                h,
            )
            .unwrap(),
            max_iter,
        )
        .unwrap()
    };
    vec![
        (
            "seed-400x400x1000",
            Params::new(Viewport::seed(400, 400).unwrap(), 1000).unwrap(),
        ),
        (
            "boundary-zoom",
            view(-0.7512, -0.7388, 0.0951, 0.1047, 256, 192, 5000),
        ),
        ("mostly-inside", view(-0.6, 0.2, -0.4, 0.4, 256, 256, 2000)),
        ("mostly-escaping", view(-2.5, 2.5, 0.8, 2.0, 512, 128, 1000)),
        // The Benchmarks Game's view and limit (the counting strategy), at 1/10 of its size.
        (
            "benchmarks-game-1600",
            view(-1.5, 0.5, -1.0, 1.0, 1600, 1600, 50),
        ),
    ]
}

fn kernels(c: &mut Criterion) {
    if let Some(hz) = mandel::clock::estimate_hz() {
        eprintln!(
            "clock estimate: {:.3} GHz (divide iterations/s by this for per cycle)",
            hz / 1e9
        );
    }
    for (name, params) in workloads() {
        let vp = params.viewport;
        let mut out = vec![0u32; vp.pixels() as usize];
        Kernel::Scalar.render_rows(&vp, 0, params.max_iter, &mut out);
        let iterations: u64 = out.iter().map(|&n| u64::from(n)).sum();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(iterations));
        group.sample_size(10);
        for kernel in Kernel::available() {
            let variants = match kernel {
                // The scalar kernel never skips: one run says it all.
                Kernel::Scalar => vec![(Shortcuts::Off, kernel.name().to_string())],
                _ => vec![
                    (Shortcuts::Off, kernel.name().to_string()),
                    (Shortcuts::On, format!("{}+shortcuts", kernel.name())),
                ],
            };
            for (shortcuts, label) in variants {
                group.bench_function(label, |b| {
                    b.iter(|| kernel.render_rows_with(&vp, 0, params.max_iter, shortcuts, &mut out))
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
