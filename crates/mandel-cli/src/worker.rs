//! `mandel worker`: one process of the `--pool processes` pool.

use anyhow::Result;
use mandel::process_pool::{FAULT_ENV, Fault, PARENT_ENV, serve_worker};

pub fn run() -> Result<()> {
    // If the parent dies without closing our input (SIGKILL), die with it rather than linger;
    // if it died before this line, the parent pid no longer matches: leave at once.
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and no pointers.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        }
        let parent = std::env::var(PARENT_ENV)
            .ok()
            .and_then(|p| p.parse::<u32>().ok());
        if parent.is_some_and(|p| p != std::os::unix::process::parent_id()) {
            return Ok(());
        }
    }
    let fault = match std::env::var(FAULT_ENV) {
        Ok(v) if !v.is_empty() => Some(Fault::parse(&v)?),
        _ => None,
    };
    serve_worker(std::io::stdin().lock(), std::io::stdout().lock(), fault)?;
    Ok(())
}
