//! An estimate of the CPU's clock, so that benchmark figures can be given per cycle and
//! compared across machines whose clocks differ.
//!
//! A chain of dependent register-to-register integer adds runs at one add per cycle on every
//! x86-64 core of the last fifteen years; timing a long chain gives the cycles per second the
//! core actually ran at (turbo included), where no performance counters can be read. Adds of
//! an immediate are avoided: some cores fold chains of them.

use std::time::Instant;

/// Cycles per second of the calling thread's core, from the best of a few timed chains; None
/// where no such chain is implemented (not x86-64).
pub fn estimate_hz() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        const ADDS: u64 = 200_000_000;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            add_chain(ADDS);
            best = best.min(start.elapsed().as_secs_f64());
        }
        Some(ADDS as f64 / best)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = Instant::now;
        None
    }
}

/// `adds` dependent `add reg, reg` instructions (rounded down to a multiple of 8).
#[cfg(target_arch = "x86_64")]
fn add_chain(adds: u64) {
    let mut acc: u64 = 0;
    let mut loops = adds / 8;
    // SAFETY: only register arithmetic and a counted loop.
    unsafe {
        std::arch::asm!(
            "2:",
            "add {acc}, {one}", "add {acc}, {one}", "add {acc}, {one}", "add {acc}, {one}",
            "add {acc}, {one}", "add {acc}, {one}", "add {acc}, {one}", "add {acc}, {one}",
            "dec {loops}",
            "jnz 2b",
            acc = inout(reg) acc,
            one = in(reg) 1u64,
            loops = inout(reg) loops,
            options(nomem, nostack),
        );
    }
    std::hint::black_box((acc, loops));
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_chain_runs_all_its_adds() {
        // A plausible clock for any machine this runs on: 0.3 to 8 GHz.
        let hz = super::estimate_hz().unwrap();
        assert!((3e8..8e9).contains(&hz), "{hz}");
    }
}
