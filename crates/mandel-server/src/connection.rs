//! Serving one accepted connection: HTTP/1.1 with keep-alive, the same in a worker process and
//! in a connection task.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;

/// Serves requests on `stream` until the client closes it, it idles past `header_timeout`, a
/// write to it makes no progress for `write_timeout` (a client that stopped reading), or
/// `shutdown` fires; then the request in progress, if any, is finished and the connection
/// closed. A request whose client goes away is dropped, which cancels its render.
pub async fn serve(
    stream: TcpStream,
    app: Router,
    header_timeout: Duration,
    write_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let _ = stream.set_nodelay(true);
    // A client that stops reading a large response would otherwise hold its worker for as
    // long as it likes: the kernel's send buffer fills and the write waits forever.
    let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
    stream.set_write_timeout(Some(write_timeout));
    let stream = Box::pin(stream);
    let mut builder = http1::Builder::new();
    // The header timeout runs from the moment the connection waits for a request, so it
    // bounds a client trickling its headers and an idle keep-alive connection alike: neither
    // holds a worker for longer.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => log_end(result),
        () = shutdown => {
            conn.as_mut().graceful_shutdown();
            log_end(conn.await);
        }
    }
}

fn log_end(result: hyper::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.is_timeout() => tracing::debug!("connection closed: header timeout"),
        Err(e) if is_write_timeout(&e) => tracing::info!("connection dropped: write timeout"),
        Err(e) => tracing::debug!("connection ended: {e}"),
    }
}

fn is_write_timeout(e: &hyper::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::TimedOut;
        }
        source = err.source();
    }
    false
}
