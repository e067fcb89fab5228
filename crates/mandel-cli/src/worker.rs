//! `mandel worker`: one process of the `--pool processes` pool.

pub fn run() -> anyhow::Result<()> {
    Ok(mandel::run_worker()?)
}
