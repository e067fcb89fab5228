//! `mandel serve` and its hidden worker subcommand.

use anyhow::Result;
use mandel_server::{Config, Isolation, Limits, WorkerCommand};

use crate::cli::{IsolationKind, ServeArgs};

pub fn run(args: ServeArgs) -> Result<()> {
    init_logging();
    let config = Config {
        listen: args.listen,
        max_workers: args.max_workers,
        isolation: match args.isolation {
            IsolationKind::Process => Isolation::Process,
            IsolationKind::Thread => Isolation::Thread,
        },
        tile_cache: args
            .tile_cache
            .unwrap_or_else(|| mandel_server::config::default_tile_cache(&args.db)),
        tile_cache_bytes: args.tile_cache_mb.saturating_mul(1 << 20),
        orbit_cache_bytes: usize::try_from(args.orbit_cache_mb.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        db: args.db,
        limits: Limits {
            max_pixels: args.max_pixels,
            max_iter: args.max_iter_limit,
            render_timeout: args.render_timeout,
            max_body_bytes: args.max_body_bytes,
        },
        header_timeout: args.header_timeout,
        write_timeout: args.write_timeout,
        log_retention: args.log_retention,
        keep_alive_requests: args.keep_alive_requests,
        shutdown_timeout: args.shutdown_timeout,
        backlog: args.backlog,
    };
    let worker = WorkerCommand {
        program: std::env::current_exe()?,
        args: vec!["serve-connection".into()],
    };
    mandel_server::serve(config, worker)?;
    Ok(())
}

/// A worker process of `mandel serve`.
pub fn connection(board_fd: i32, config: &str) -> Result<()> {
    init_logging();
    mandel_server::worker::main(board_fd, config)?;
    Ok(())
}

/// Logs to stderr; `MANDEL_LOG` (tracing's filter syntax) chooses what, `info` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MANDEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
