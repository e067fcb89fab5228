//! Thread isolation, for comparison: the same interface and cap, with a task per connection in
//! the one server process. Renders still run on blocking threads, never on the runtime's.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::ServeError;
use crate::app::{AppState, app};
use crate::config::Config;
use crate::log::{LogWriter, RenderLog};
use crate::scoreboard::Scoreboard;

pub async fn run(
    config: Arc<Config>,
    board: Arc<Scoreboard>,
    log: LogWriter,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let cap = config.max_workers;
    let slots = Arc::new(Semaphore::new(cap as usize));
    let (stop, _) = watch::channel(false);
    // One process: every connection shares its orbits.
    let orbits = mandel::OrbitCache::new(config.orbit_cache_bytes);
    tokio::pin!(shutdown);
    loop {
        // A slot first, then accept: at the cap, connections wait in the backlog.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                board.set_accept_paused(true);
                let slot = tokio::select! {
                    () = &mut shutdown => break,
                    slot = slots.clone().acquire_owned() => slot,
                };
                board.set_accept_paused(false);
                slot.expect("the semaphore is never closed")
            }
        };
        let (stream, client) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(crate::ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        board.connections_accepted.fetch_add(1, Relaxed);
        board.workers_busy.fetch_add(1, Relaxed);
        let (config, board, mut stop) = (config.clone(), board.clone(), stop.subscribe());
        let orbits = orbits.clone();
        let log: Arc<dyn RenderLog> = Arc::new(log.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let (header, write) = (config.header_timeout, config.write_timeout);
            let state = AppState::new(log, board.clone(), config, orbits, client);
            let stopped = async move {
                let _ = stop.wait_for(|&stopped| stopped).await;
            };
            crate::connection::serve(stream, app(state), header, write, stopped).await;
            board.workers_busy.fetch_sub(1, Relaxed);
        });
    }

    drop(listener);
    board.set_accept_paused(false);
    stop.send_replace(true);
    tracing::info!(
        connections = board.workers_busy.load(Relaxed),
        "shutting down: waiting up to {:?} for connections",
        config.shutdown_timeout
    );
    // Every slot back means every connection task has ended.
    if tokio::time::timeout(config.shutdown_timeout, slots.acquire_many(cap))
        .await
        .is_err()
    {
        tracing::warn!("shutdown deadline passed: dropping the connections left");
    }
    Ok(())
}
