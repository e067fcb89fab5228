//! A worker process: serves the one connection its supervisor accepted, then exits.
//!
//! The supervisor starts `mandel serve-connection BOARD_FD CONFIG` with the connection as
//! standard input and the scoreboard inherited as descriptor BOARD_FD. Before anything else
//! the worker maps the board and closes every descriptor it inherited beyond 0-2 (the board's,
//! and the supervisor's listener, had it leaked), then opens its own database connection and
//! serves.

use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use crate::ServeError;
use crate::app::{AppState, app};
use crate::config::Config;
use crate::db::Db;
use crate::scoreboard::Scoreboard;

pub fn main(board_fd: i32, config_json: &str) -> Result<(), ServeError> {
    // If the supervisor dies, finish the request in hand and go (SIGTERM is graceful here).
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
    }
    let config: Config = serde_json::from_str(config_json)
        .map_err(|e| ServeError::Setup(format!("serve-connection: bad configuration: {e}")))?;
    if board_fd <= 2 {
        return Err(ServeError::Setup(format!(
            "serve-connection: the scoreboard cannot be descriptor {board_fd}"
        )));
    }
    // SAFETY: the descriptor is only borrowed to map it; attach checks that it is a board.
    let board = Scoreboard::attach(unsafe { BorrowedFd::borrow_raw(board_fd) })
        .map_err(|e| ServeError::Setup(format!("serve-connection: scoreboard: {e}")))?;
    close_inherited_descriptors();
    // SAFETY: descriptor 0 is the connection the supervisor handed over, owned from here on.
    let socket = std::net::TcpStream::from(unsafe { OwnedFd::from_raw_fd(0) });
    let client = socket.peer_addr().map_err(|e| {
        ServeError::Setup(format!(
            "serve-connection: standard input is not a connection: {e}"
        ))
    })?;
    socket.set_nonblocking(true)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let render_timeout = config.limits.render_timeout;
    runtime.block_on(async move {
        let db = tokio::task::spawn_blocking({
            let path = config.db.clone();
            move || Db::open(&path)
        })
        .await
        .map_err(|e| ServeError::Setup(e.to_string()))??;
        let (header_timeout, write_timeout) = (config.header_timeout, config.write_timeout);
        let state = AppState::new(db, Arc::new(board), Arc::new(config), client);
        let stream = tokio::net::TcpStream::from_std(socket)?;
        let shutdown = crate::shutdown_signal()?;
        crate::connection::serve(stream, app(state), header_timeout, write_timeout, shutdown).await;
        Ok::<_, ServeError>(())
    })?;
    // A render whose client left is still on the blocking pool: it stops by its deadline at
    // the latest, and then logs its outcome, so wait for it (a worker that is killed
    // instead has its running renders marked failed by the supervisor).
    runtime.shutdown_timeout(render_timeout + std::time::Duration::from_secs(5));
    Ok(())
}

/// Closes every descriptor above 2 (standard input is the connection): a worker must hold
/// nothing of its supervisor's, least of all the listening socket.
fn close_inherited_descriptors() {
    let open: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in open.into_iter().filter(|&fd| fd > 2) {
        // SAFETY: nothing in this process owns these descriptors yet (the one used to list
        // the folder is already closed; closing it again only returns EBADF).
        unsafe {
            libc::close(fd);
        }
    }
}
