//! Each kernel this CPU has on fixed workloads, one thread: iterations per second (criterion's
//! throughput) and, printed first, the clock estimate that turns them into iterations per
//! cycle. Every iteration is done (no shortcuts), so that the figures measure the kernels;
//! `KERNEL+shortcuts` adds the default proven shortcuts, whose skipped iterations still count
//! in the throughput. Run: `cargo bench -p mandel-kernel --bench kernels`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mandel_kernel::{Bounds, Kernel, Shortcuts, Viewport};

/// A named view and its max-iter.
type Workload = (&'static str, Viewport, u32);

fn workloads() -> Vec<Workload> {
    let view = |name, xmin, xmax, ymin, ymax, w, h, max_iter| {
        let bounds = Bounds {
            xmin,
            xmax,
            ymin,
            ymax,
        };
        (name, Viewport::new(bounds, w, h).unwrap(), max_iter)
    };
    vec![
        ("seed-400x400x1000", Viewport::seed(400, 400).unwrap(), 1000),
        view(
            "boundary-zoom",
            -0.7512,
            -0.7388,
            0.0951,
            0.1047,
            256,
            192,
            5000,
        ),
        view("mostly-inside", -0.6, 0.2, -0.4, 0.4, 256, 256, 2000),
        view("mostly-escaping", -2.5, 2.5, 0.8, 2.0, 512, 128, 1000),
        // The Benchmarks Game's view and limit (the counting strategy), at 1/10 of its size.
        view("benchmarks-game-1600", -1.5, 0.5, -1.0, 1.0, 1600, 1600, 50),
    ]
}

fn kernels(c: &mut Criterion) {
    if let Some(hz) = mandel_kernel::clock::estimate_hz() {
        eprintln!(
            "clock estimate: {:.3} GHz (divide iterations/s by this for per cycle)",
            hz / 1e9
        );
    }
    for (name, vp, max_iter) in workloads() {
        let mut out = vec![0u32; vp.pixels() as usize];
        Kernel::Scalar.render_rows(&vp, 0, max_iter, Shortcuts::Off, &mut out);
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
                    b.iter(|| kernel.render_rows(&vp, 0, max_iter, shortcuts, &mut out))
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
