//! A worker process: serves the one connection its supervisor accepted, then exits.
//!
//! The supervisor starts `mandel serve-connection BOARD_FD CONFIG` with the connection as
//! standard input, a socket to the supervisor's log relay as standard output, and the
//! scoreboard inherited as descriptor BOARD_FD. Before anything else the worker maps the board
//! and closes every descriptor it inherited beyond 0-2 (the board's, and the supervisor's
//! listener, had it leaked), then serves. It logs renders through the supervisor, and opens a
//! database connection of its own only to read (the pages, `/renders`).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use crate::ServeError;
use crate::app::{AppState, app};
use crate::config::Config;
use crate::log::LogClient;
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
    let log = LogClient::new(log_socket()?)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let render_timeout = config.limits.render_timeout;
    runtime.block_on(async move {
        let (header_timeout, write_timeout) = (config.header_timeout, config.write_timeout);
        // This process serves one connection: its orbits are that connection's.
        let orbits = mandel::OrbitCache::new(config.orbit_cache_bytes);
        let (log, board, config) = (Arc::new(log), Arc::new(board), Arc::new(config));
        let state = AppState::new(log, board, config, orbits, client);
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

/// The socket to the supervisor's log relay, which standard output is: moved to a descriptor
/// of its own, with standard output pointed at /dev/null, so that nothing printed by mistake
/// can garble the log's protocol.
fn log_socket() -> Result<std::os::unix::net::UnixStream, ServeError> {
    let setup = |e: std::io::Error| ServeError::Setup(format!("serve-connection: log socket: {e}"));
    // SAFETY: descriptor 1 is open for the whole process; it is only duplicated here.
    let socket = unsafe { BorrowedFd::borrow_raw(1) }
        .try_clone_to_owned()
        .map_err(setup)?;
    let socket = std::os::unix::net::UnixStream::from(socket);
    socket.peer_addr().map_err(|e| {
        ServeError::Setup(format!(
            "serve-connection: standard output is not the supervisor's socket: {e}"
        ))
    })?;
    let null = std::fs::File::options()
        .write(true)
        .open("/dev/null")
        .map_err(setup)?;
    // SAFETY: dup2 takes two descriptors this process holds; it replaces descriptor 1,
    // which nothing in the process owns (the socket is the duplicate above).
    if unsafe { libc::dup2(null.as_raw_fd(), 1) } < 0 {
        return Err(setup(std::io::Error::last_os_error()));
    }
    Ok(socket)
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
