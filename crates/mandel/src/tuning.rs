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
