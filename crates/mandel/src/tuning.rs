//! The scheduler's tuning constants, in one place (the kernels' own are in `mandel-kernel`'s
//! `tuning`). None changes a count.

/// Pixels per task handed to a worker: the unit is a row, as in the seed, but narrow rows are
/// grouped so that a vector kernel has enough pixels in flight and a task is worth a steal.
pub(crate) const PIXELS_PER_TASK: usize = 4096;

/// Rows wider than this are cut into stretches of this many pixels (a multiple of 8, so
/// that a stretch of a PBM row starts on a byte), so that one huge row is shared out like
/// many. Cutting every row of 4096 or more (16000-pixel rows into 4) cost 0.88x on the
/// Benchmarks Game workload on 2 threads: four times the tasks to hand out in order.
pub(crate) const WIDE_ROW: usize = 1 << 16;

/// `Job::run` streams a picture or npy row by row, rather than holding its grid, once it
/// has more samples than this (2^24: a 4096×4096 picture, whose grid and colours take 112
/// MB, 224 MB with smooth values). Below it the grid is faster where colours need every
/// sample, which streaming computes twice.
pub(crate) const STREAM_ABOVE_SAMPLES: u64 = 1 << 24;

/// Most samples a streamed row may have (2^24: 128 MB as smooth values); a stream holds rows
/// whole.
pub(crate) const MAX_STREAMED_ROW: u64 = 1 << 24;

/// Bands finished ahead of the one an in-order sink needs next, per thread, before that thread
/// waits: this bounds the memory of a streamed render whatever the grid's size.
pub(crate) const AHEAD_PER_THREAD: usize = 4;

/// Renders of fewer pixel-iterations (pixels times max-iter) than this run on the calling
/// thread whatever the pool: handing a millisecond of work to a pool costs about as much as it
/// saves, and a server under load keeps every core busy with requests anyway.
pub const SMALL_RENDER: u64 = 1 << 24;

/// How often a process pool's parent looks at the render's deadline and cancel handle while
/// it waits for its workers (the kernels in this process poll their own; see
/// `mandel_kernel::POLL_STEPS`). Past either, it kills the workers.
pub(crate) const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// `--precision auto` keeps the seed's double arithmetic while the view is at least this
/// fraction of its largest coordinate wide (2^-12: zoom 2·10^4 about |c| = 0.75), and
/// switches to perturbation below it. There, in seahorse valley, doubles agree with direct
/// arbitrary-precision iteration on 99.5% of the pixels and perturbation on 99.9%; one
/// decade deeper doubles fall to 99.25% and on to 48% at 1e13, while perturbation stays at
/// 99.6-99.97%. `docs/deep-zoom.md` has the table and `examples/precision.rs` makes it.
pub(crate) const DOUBLE_MIN_WIDTH: f64 = 1.0 / 4096.0;
