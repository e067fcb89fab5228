//! The escape-time kernels of `mandel`: how many times `z <- z*z + c` runs before |z| reaches
//! 2, for whole rows of a [`Viewport`].
//!
//! Every kernel here computes the seed's count bit for bit. The arithmetic is spelled out as
//! separate multiplies and adds in the seed's order; Rust never contracts them into fused
//! multiply-adds, and no kernel reassociates them. The vector kernels share one generic body
//! (`simd`, split by stage: the pixel source, trap discs, counting tiles, the sieve, the
//! refilling loop) and differ only in their primitives; one is chosen at run time from the
//! CPU's features, and `MANDEL_KERNEL` (or `--kernel`) forces a particular one. Every tuning
//! constant is in `tuning`.
//!
//! This crate has no dependencies and does no I/O and no threading: the `mandel` crate
//! schedules rows onto threads or processes and turns counts into files.
//!
//! ```
//! use mandel_kernel::{Kernel, Shortcuts, Viewport};
//! let vp = Viewport::seed(40, 20)?;
//! let mut counts = vec![0; 40 * 20];
//! Kernel::best().render_rows(&vp, 0, 100, Shortcuts::On, &mut counts);
//! assert_eq!(counts[10 * 40 + 16], 100); // (-1.1, 0) is in the set
//! # Ok::<(), mandel_kernel::InvalidValue>(())
//! ```

#![warn(missing_docs)]

pub mod clock;
#[cfg(target_arch = "aarch64")]
mod neon;
mod portable;
mod scalar;
mod simd;
mod smooth;
mod stop;
mod trap;
mod tuning;
mod viewport;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86;

use std::fmt;
use std::str::FromStr;

pub use scalar::escape_time;
pub use smooth::{SMOOTH_RADIUS, smooth_span};
pub use stop::{Meter, POLL_STEPS, Stop, Stopped};
pub use viewport::{Bounds, SEED_BOUNDS, Viewport};

/// A value the kernels cannot work with: which one (`width`, `xmin`, `kernel`, ...), what it
/// was, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// The parameter's name.
    pub name: &'static str,
    /// The value as given.
    pub value: String,
    /// Why it cannot be used, as the end of a sentence that begins with the name and value.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(
        name: &'static str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        InvalidValue {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} {}", self.name, self.value, self.reason)
    }
}

impl std::error::Error for InvalidValue {}

/// The environment variable that forces a kernel, as `--kernel` does.
pub const KERNEL_ENV: &str = "MANDEL_KERNEL";

/// An escape-time implementation. All give identical counts; they differ in speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// One pixel at a time, the reference every other kernel is tested against.
    Scalar,
    /// The generic vector body on plain arrays (any CPU).
    Portable,
    /// x86-64 AVX2: 4 doubles per vector.
    Avx2,
    /// x86-64 AVX-512F: 8 doubles per vector.
    Avx512,
    /// aarch64 NEON: 2 doubles per vector.
    Neon,
}

impl Kernel {
    /// Every kernel, slowest first (whether or not this CPU has it).
    pub const ALL: [Kernel; 5] = [
        Kernel::Scalar,
        Kernel::Portable,
        Kernel::Avx2,
        Kernel::Avx512,
        Kernel::Neon,
    ];

    /// The name `--kernel` and `MANDEL_KERNEL` take.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
            Kernel::Neon => "neon",
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Scalar | Kernel::Portable => true,
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The kernels this CPU can run, slowest first.
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_available())
            .collect()
    }

    /// The fastest kernel this CPU has.
    pub fn best() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Neon]
            .into_iter()
            .find(|k| k.is_available())
            .unwrap_or(Kernel::Portable)
    }

    /// `choice` ("auto" or a kernel's name), checked against this CPU.
    pub fn select(choice: &str) -> Result<Kernel, InvalidValue> {
        if choice.eq_ignore_ascii_case("auto") {
            return Ok(Kernel::best());
        }
        let kernel: Kernel = choice.parse()?;
        if !kernel.is_available() {
            return Err(InvalidValue::new(
                "kernel",
                choice,
                format!(
                    "is not supported by this CPU (available: {})",
                    Kernel::available()
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(kernel)
    }

    /// Fills `out`, which holds whole rows of `viewport` starting at `first_row`, with their
    /// counts: `out[r * width + c]` is the count of pixel (`first_row + r`, `c`). With
    /// `shortcuts` on, orbits proven never to escape stop early (same counts, less work).
    /// Returns the iterations those shortcuts skipped: the sum of the counts written, less
    /// the iterations the kernel computed (0 with shortcuts off, and for the scalar kernel).
    ///
    /// # Panics
    /// If `out` does not hold whole rows of the viewport, or this CPU cannot run the kernel.
    pub fn render_rows(
        self,
        viewport: &Viewport,
        first_row: u32,
        max_iter: u32,
        shortcuts: Shortcuts,
        out: &mut [u32],
    ) -> u64 {
        assert!(
            out.len().is_multiple_of(viewport.width() as usize),
            "output must hold whole rows of the viewport"
        );
        let first = u64::from(first_row) * u64::from(viewport.width());
        self.render_span(viewport, first, max_iter, shortcuts, Stop::never(), out)
            .expect("a render that is never stopped finishes")
    }

    /// Fills `out` with the counts of the span of pixels that starts at pixel `first`,
    /// counting row by row: `out[i]` is the count of pixel `first + i`, which is (row, col)
    /// = (`(first + i) / width`, `(first + i) % width`). A span may start and end anywhere
    /// in a row. Returns what [`Kernel::render_rows`] returns, or [`Stopped`] once `stop`
    /// says so; it is polled about every [`POLL_STEPS`] iterations, so a span stops within
    /// a fraction of a millisecond however long its rows or its pixels' orbits are.
    ///
    /// # Panics
    /// If the span runs past the viewport's last pixel, or this CPU cannot run the kernel.
    pub fn render_span(
        self,
        viewport: &Viewport,
        first: u64,
        max_iter: u32,
        shortcuts: Shortcuts,
        stop: Stop,
        out: &mut [u32],
    ) -> Result<u64, Stopped> {
        let skip = shortcuts == Shortcuts::On;
        assert!(
            first
                .checked_add(out.len() as u64)
                .is_some_and(|end| end <= viewport.pixels()),
            "the span must lie within the viewport"
        );
        assert!(
            self.is_available(),
            "{} is not available on this CPU",
            self.name()
        );
        match self {
            Kernel::Scalar => {
                let mut meter = Meter::new(stop);
                let points = viewport.span_points(first, out.len());
                for ((cx, cy), count) in points.zip(out.iter_mut()) {
                    *count = scalar::escape_time_metered(cx, cy, max_iter, &mut meter)?;
                }
                Ok(0)
            }
            // SAFETY: plain Rust behind the trait.
            Kernel::Portable => unsafe {
                const K: usize = tuning::PORTABLE_VECTORS.0;
                const KC: usize = tuning::PORTABLE_VECTORS.1;
                simd::render::<portable::Portable, K, KC>(
                    viewport, first, max_iter, skip, stop, out,
                )
            },
            // SAFETY: availability was asserted above.
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kernel::Avx2 => unsafe {
                x86::render_span_avx2(viewport, first, max_iter, skip, stop, out)
            },
            // SAFETY: availability was asserted above.
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Kernel::Avx512 => unsafe {
                x86::render_span_avx512(viewport, first, max_iter, skip, stop, out)
            },
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => neon::render_span_neon(viewport, first, max_iter, skip, stop, out),
            #[allow(unreachable_patterns)]
            _ => unreachable!("availability was asserted"),
        }
    }
}

/// Whether a kernel may skip work it can prove would not change a count: an orbit that comes
/// back to a value it held before, bit for bit, is periodic and never escapes, and so is one
/// that enters a disc around the attracting fixed point of a main-cardioid point, or one of a
/// pair around the attracting 2-cycle of a period-2-bulb point, that the rounded step provably
/// maps into itself (`trap`); either is counted as max-iter at once. The scalar kernel never
/// skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shortcuts {
    /// Skip work that provably cannot change a count (the default).
    #[default]
    On,
    /// Run every iteration (for benchmarks of the kernels' raw speed).
    Off,
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel::best()
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kernel {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InvalidValue::new(
                    "kernel",
                    s,
                    "is not known (choose auto, scalar, portable, avx2, avx512 or neon)",
                )
            })
    }
}

#[cfg(test)]
mod tests;
