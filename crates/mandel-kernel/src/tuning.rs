//! Every tuning constant of the kernels, in one place. None of them changes a count: each
//! trades one cost against another, and each was chosen by an A/B measurement, summarised
//! here in a line or two (machine: one core of this project's AVX2 Zen 3 unless noted). The
//! full logs, with every variant tried, are in `docs/tuning.md`.

/// Steps between escape tests in the refilling strategy. 16 beat 8 by 1.10x (2000x2000
/// max-iter 5000, and inside the set alike); 32 was no faster.
pub const BLOCK: u32 = 16;

/// Steps between escape tests in the counting strategy, where pixels escape within a few
/// blocks: 8 beat 16 (1.02x) and 32 (1.2x) on the Benchmarks Game workload.
pub const COUNTING_BLOCK: u32 = 8;

/// Steps every pixel runs in the counting strategy's tiles (the sieve) before the refilling
/// strategy takes over the ones still running; a multiple of [`COUNTING_BLOCK`]. 256 against
/// the refilling strategy alone: 1.90x at the default view at max-iter 5000, 2.01x on a
/// seahorse-valley zoom; 128 and 512 lost to it (0.89x and 0.92x at the default view).
pub const SIEVE_STEPS: u32 = 256;

/// Up to this max-iter the counting strategy runs, above it the refilling one (with its
/// sieve): lowering it to 512 or 256 gave 0.99x and 0.93x on the Benchmarks Game view at
/// max-iter 1000 and 0.66x and 0.69x on a seahorse-valley zoom.
pub const COUNTING_MAX_ITER: u32 = 1000;

/// Above this max-iter the counting strategy also tests the period-2 bulb's pair of trap
/// discs: at the Benchmarks Game's 50 they cost more than they save (0.92x), at 500 a view of
/// the bulb runs 7.2x faster.
pub const COUNTING_BULB_MIN_ITER: u32 = 128;

/// Vectors in flight in the portable kernel (refilling, counting): with the sieve beside it,
/// 4 refilling vectors spilled (SSE2: 3 ran 1.30x as fast as 4, 2 ran 0.67x as fast as 3).
pub const PORTABLE_VECTORS: (usize, usize) = (3, 4);

/// AVX2 refilling vectors without shortcuts: 7 vectors' z fill 14 of the 16 registers (7 ran
/// 1.11-1.16x as fast as 5; 8 spilled, 0.65x).
pub const AVX2_REFILL_VECTORS: usize = 7;

/// AVX2 refilling vectors with shortcuts, where pixels leave vectors far more often and every
/// exit replays every vector's block: 7 ran 0.91x and 0.96x as fast as 5.
pub const AVX2_REFILL_VECTORS_SHORTCUTS: usize = 5;

/// AVX2 counting vectors: the per-lane counts take a register per vector more; 4 beat 2, 3
/// and 5 (5 spilled in the inner loop).
pub const AVX2_COUNTING_VECTORS: usize = 4;

/// AVX-512 vectors in flight (refilling, counting): 32 registers hold either strategy's state
/// with 4. Not measured: no AVX-512 machine in any session so far.
pub const AVX512_VECTORS: (usize, usize) = (4, 4);

/// NEON vectors in flight (refilling, counting): 5 counting vectors fit 32 registers with
/// their counts. Not measured: no aarch64 machine here.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub const NEON_VECTORS: (usize, usize) = (8, 5);

/// Iterations (of one pixel each) between polls of a render's `Stop`: about 0.4 ms of one
/// core's AVX2 work and 3 ms of scalar work, so a deadline or a cancel is seen well within a
/// millisecond-scale bound, while the poll (a clock read, tens of nanoseconds) costs under
/// 0.01% of the work between two of them.
pub const POLL_STEPS: u64 = 1 << 20;
