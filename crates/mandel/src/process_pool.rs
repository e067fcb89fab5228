//! The seed's `multiprocessing.Pool`, with processes: worker processes of the same program
//! take tasks (a few rows, or a stretch of a wide row) from the parent over pipes and send the
//! counts back.
//!
//! Map, close, join, as the seed does: the parent hands out tasks dynamically (a worker gets
//! the next one when it returns the last), then closes every worker's input and waits for it.
//! A worker that dies is noticed when its pipe closes; its task goes back on the queue and a
//! replacement is started, up to [`MAX_REPLACEMENTS`] times in one render. Past the render's
//! deadline, or once it is cancelled, the parent kills the render's workers (it looks every
//! [`STOP_POLL`]) and returns the error.
//!
//! Protocol (all integers and floats little-endian):
//! - parent to worker, once: `b"MNDL"`, version u32, worker serial u32, width u32, height u32,
//!   max_iter u32, xmin xmax ymin ymax f64, kernel u8 (index in [`Kernel::ALL`]), shortcuts
//!   u8 (1 on, 0 off);
//! - parent to worker, per task: first pixel u64 (counted row by row over the whole viewport),
//!   pixels u32; end of input means "close";
//! - worker to parent, per task: first pixel u64, pixels u32, the iterations the kernel's
//!   shortcuts skipped u64, then the counts u32.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use crate::error::{Error, Result};
use mandel_kernel::{Bounds, Kernel, Shortcuts, Viewport};

use crate::Grid;
use crate::render::{Band, Engine, Params, RowOrder, Tasks};
use crate::tuning::STOP_POLL;

const MAGIC: &[u8; 4] = b"MNDL";
const VERSION: u32 = 4;

/// Replacement workers started in one render before it gives up: a worker that dies once is
/// bad luck; one that keeps dying is a bug or a hostile machine.
pub(crate) const MAX_REPLACEMENTS: u32 = 3;

/// The environment variable that makes workers fail on purpose, for tests:
/// `abort-first-worker-after:K` (the first worker aborts after answering K tasks; its
/// replacements behave) or `abort-every-worker-after:K`.
pub(crate) const FAULT_ENV: &str = "MANDEL_FAULT";

/// How to start a worker process: a program and arguments that make it call
/// [`crate::run_worker`] (for `mandel`, its hidden `worker` subcommand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

/// Set in each worker's environment to the parent's pid, so that a worker can tell whether the
/// parent it was started for still lives (see `mandel worker`).
const PARENT_ENV: &str = "MANDEL_WORKER_PARENT";

/// Children not yet reaped, each with the render it works for, so that an interrupt handler
/// or a render's stop can kill them; once `closed`, no worker is started any more (a pool must
/// not replace the workers the handler killed).
///
/// A pid is signalled only under this lock and only while listed, and whoever reaps a child
/// takes it off the list first (under the lock): so no pid is ever signalled after it was
/// reaped, when it may already belong to another process.
struct Live {
    pids: Vec<(u32, u64)>,
    closed: bool,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    pids: Vec::new(),
    closed: false,
});

fn live() -> std::sync::MutexGuard<'static, Live> {
    // The list stays consistent whatever panicked while holding it (one push or retain).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills and reaps every worker process still alive, and stops pools from starting more (for
/// a SIGINT handler, before the process exits).
pub fn kill_all_workers() {
    let pids = {
        let mut live = live();
        live.closed = true;
        std::mem::take(&mut live.pids)
    };
    // Off the list, these are this function's to reap: their pool threads will not wait for
    // them (see `unlist`).
    for (pid, _) in pids {
        #[cfg(unix)]
        // SAFETY: plain system calls on a pid this process spawned and has not reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
            libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
        #[cfg(not(unix))]
        let _ = pid;
    }
}

/// Kills the workers of render `render` (its stop); their pool threads see their pipes break
/// and reap them.
fn kill_render_workers(render: u64) {
    let live = live();
    for &(pid, _) in live.pids.iter().filter(|(_, r)| *r == render) {
        #[cfg(unix)]
        // SAFETY: a plain system call on a listed pid: a child not yet reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
        #[cfg(not(unix))]
        let _ = pid;
    }
}

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(
        cmd: &WorkerCommand,
        serial: u32,
        render: u64,
        params: &Params,
        kernel: Kernel,
        shortcuts: Shortcuts,
    ) -> Result<Self> {
        // Spawning under the lock: the interrupt handler either sees this child or stops it
        // from being started.
        let mut live = live();
        if live.closed {
            return Err(Error::Worker("interrupted".into()));
        }
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Error::Worker(format!("cannot start {}: {e}", cmd.program.display())))?;
        live.pids.push((child.id(), render));
        drop(live);
        let input = BufWriter::new(child.stdin.take().expect("piped"));
        let output = BufReader::new(child.stdout.take().expect("piped"));
        let mut w = Worker {
            child,
            input,
            output,
        };
        // A worker that dies at once shows up as a broken pipe on the first task instead.
        let _ = w.send_header(serial, params, kernel, shortcuts);
        Ok(w)
    }

    fn send_header(
        &mut self,
        serial: u32,
        params: &Params,
        kernel: Kernel,
        shortcuts: Shortcuts,
    ) -> io::Result<()> {
        let vp = &params.viewport;
        let b = vp.bounds();
        let kernel_index = Kernel::ALL
            .iter()
            .position(|&k| k == kernel)
            .expect("listed") as u8;
        let w = &mut self.input;
        w.write_all(MAGIC)?;
        for v in [VERSION, serial, vp.width(), vp.height(), params.max_iter] {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in [b.xmin, b.xmax, b.ymin, b.ymax] {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&[kernel_index, u8::from(shortcuts == Shortcuts::On)])?;
        w.flush()
    }

    /// Sends one task, the `len` pixels from the viewport's pixel `first` on, and reads their
    /// counts into `counts`; returns the iterations the worker's shortcuts skipped. An I/O
    /// error means the worker died.
    fn run(&mut self, first: u64, len: u32, counts: &mut Vec<u32>) -> io::Result<u64> {
        self.input.write_all(&first.to_le_bytes())?;
        self.input.write_all(&len.to_le_bytes())?;
        self.input.flush()?;
        let got_first = read_u64(&mut self.output)?;
        let got_len = read_u32(&mut self.output)?;
        if (got_first, got_len) != (first, len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "sent pixels {got_first}+{got_len} when asked for {first}+{len} (protocol error)"
                ),
            ));
        }
        let skipped = read_u64(&mut self.output)?;
        let mut bytes = vec![0u8; len as usize * 4];
        self.output.read_exact(&mut bytes)?;
        counts.clear();
        counts.extend(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap())),
        );
        Ok(skipped)
    }

    /// Closes the worker's input (its signal to exit) and waits for it: no zombies.
    fn close(self) -> io::Result<()> {
        let Worker {
            mut child, input, ..
        } = self;
        drop(input);
        if unlist(&mut child, false) {
            child.wait()?;
        }
        Ok(())
    }

    /// Reaps a worker whose pipe broke, killing it first in case only the pipe died.
    fn reap(self) -> String {
        let Worker { mut child, .. } = self;
        if !unlist(&mut child, true) {
            return "was killed by the interrupt handler".into();
        }
        match child.wait() {
            Ok(s) => describe_exit(s),
            Err(e) => format!("could not be waited for: {e}"),
        }
    }
}

/// Takes `child` off the list of children to signal, before it is reaped; with `kill`, kills
/// it first (under the lock, while its pid is surely still its own). False if the interrupt
/// handler has already taken it, to kill and reap itself.
fn unlist(child: &mut Child, kill: bool) -> bool {
    let pid = child.id();
    let mut live = live();
    let Some(at) = live.pids.iter().position(|&(p, _)| p == pid) else {
        return false;
    };
    live.pids.swap_remove(at);
    if kill {
        let _ = child.kill();
    }
    true
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("was killed by signal {sig}");
        }
    }
    format!("exited with {status}")
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_f64(r: &mut impl Read) -> io::Result<f64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(f64::from_le_bytes(b))
}

/// Renders `params` on `jobs` worker processes started by `cmd` into `grid` (which holds
/// `params.rows`), with the engine's kernel and shortcuts, and returns the iterations the
/// kernels' shortcuts skipped. The grid is identical to the sequential one; `on_band` is
/// called with each band as it arrives. Past the engine's deadline or once it is cancelled,
/// the workers are killed and the engine's stop error returned.
pub(crate) fn render_into(
    params: &Params,
    engine: &Engine,
    jobs: NonZeroUsize,
    cmd: &WorkerCommand,
    grid: &mut Grid,
    on_band: &(dyn Fn(Band) + Sync),
) -> Result<u64> {
    static RENDERS: AtomicU64 = AtomicU64::new(0);
    let render = RENDERS.fetch_add(1, Ordering::Relaxed);
    let (kernel, shortcuts) = (engine.kernel, engine.shortcuts);
    let tasks = Tasks::new(params);
    let queue: Mutex<VecDeque<(u64, u64)>> = Mutex::new(
        (0..tasks.len())
            .map(|t| tasks.span(t, RowOrder::BottomFirst))
            .collect(),
    );
    let serials = AtomicU32::new(0);
    let replacements = AtomicU32::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<(u64, Vec<u32>, u64)>>();

    let mut failure = None;
    let mut total_skipped = 0;
    std::thread::scope(|s| {
        for _ in 0..jobs.get() {
            let tx = tx.clone();
            let (queue, serials, replacements, stop) = (&queue, &serials, &replacements, &stop);
            s.spawn(move || {
                let spawn = || {
                    let serial = serials.fetch_add(1, Ordering::Relaxed);
                    Worker::spawn(cmd, serial, render, params, kernel, shortcuts)
                };
                let mut worker = match spawn() {
                    Ok(w) => w,
                    Err(e) => return drop(tx.send(Err(e))),
                };
                let mut counts = Vec::new();
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some((first, len)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    match worker.run(tasks.in_viewport(first), len as u32, &mut counts) {
                        Ok(skipped) => {
                            let counts = std::mem::take(&mut counts);
                            if tx.send(Ok((first, counts, skipped))).is_err() {
                                break;
                            }
                        }
                        // Killed by the render's stop: nothing to replace.
                        Err(_) if stop.load(Ordering::Relaxed) => {
                            worker.reap();
                            return;
                        }
                        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                            let pid = worker.child.id();
                            worker.reap();
                            let _ = tx.send(Err(Error::Worker(format!("worker {pid} {e}"))));
                            return;
                        }
                        Err(_) => {
                            // The worker died: its task goes back, a replacement takes over.
                            queue.lock().unwrap().push_front((first, len));
                            let pid = worker.child.id();
                            let how = worker.reap();
                            if replacements.fetch_add(1, Ordering::SeqCst) >= MAX_REPLACEMENTS {
                                let _ = tx.send(Err(Error::Worker(format!(
                                    "worker {pid} {how}; workers keep dying ({MAX_REPLACEMENTS} replacements already), giving up"
                                ))));
                                return;
                            }
                            worker = match spawn() {
                                Ok(w) => w,
                                Err(e) => return drop(tx.send(Err(e))),
                            };
                        }
                    }
                }
                if let Err(e) = worker.close() {
                    let _ = tx.send(Err(Error::Worker(format!("waiting for a worker: {e}"))));
                }
            });
        }
        drop(tx);

        let mut pixels_done = 0;
        let mut stopping = false;
        loop {
            let msg = match rx.recv_timeout(STOP_POLL) {
                Ok(msg) => Some(msg),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if !stopping && engine.stop().poll() {
                stopping = true;
                stop.store(true, Ordering::Relaxed);
                kill_render_workers(render);
                failure.get_or_insert(engine.stopped());
            }
            match msg {
                Some(Ok((first, counts, skipped))) => {
                    let start = first as usize;
                    grid.counts_mut()[start..start + counts.len()].copy_from_slice(&counts);
                    total_skipped += skipped;
                    pixels_done += counts.len() as u64;
                    on_band(Band {
                        first,
                        values: &counts,
                    });
                }
                Some(Err(e)) => {
                    stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(e);
                }
                None => {}
            }
        }
        if failure.is_none() && pixels_done != params.pixels() {
            failure = Some(Error::Worker(format!(
                "workers returned {pixels_done} of {} pixels",
                params.pixels()
            )));
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(total_skipped),
    }
}

/// A deliberate failure for tests (see [`FAULT_ENV`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    AbortFirstWorkerAfter(u32),
    AbortEveryWorkerAfter(u32),
}

impl Fault {
    /// Parses `MANDEL_FAULT`'s value.
    fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::Worker(format!(
                "{FAULT_ENV} = {s} is not abort-first-worker-after:K or abort-every-worker-after:K"
            ))
        };
        let (kind, k) = s.split_once(':').ok_or_else(bad)?;
        let k: u32 = k.parse().map_err(|_| bad())?;
        match kind {
            "abort-first-worker-after" => Ok(Fault::AbortFirstWorkerAfter(k)),
            "abort-every-worker-after" => Ok(Fault::AbortEveryWorkerAfter(k)),
            _ => Err(bad()),
        }
    }

    fn tasks_before_abort(self, serial: u32) -> Option<u32> {
        match self {
            Fault::AbortFirstWorkerAfter(k) if serial == 0 => Some(k),
            Fault::AbortEveryWorkerAfter(k) => Some(k),
            _ => None,
        }
    }
}

/// The body of a worker process of [`crate::Pool::Processes`]: serves the parent's tasks on
/// standard input and output until the parent closes them. A program calls this from the
/// command its [`WorkerCommand`] runs (for `mandel`, its hidden `worker` subcommand).
pub fn run_worker() -> Result<()> {
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
    serve_worker(std::io::stdin().lock(), std::io::stdout().lock(), fault)
}

/// The worker's side: reads the header and tasks from `input`, computes, answers on `output`,
/// until `input` ends.
fn serve_worker(input: impl Read, output: impl Write, fault: Option<Fault>) -> Result<()> {
    let mut input = BufReader::new(input);
    let mut output = BufWriter::new(output);
    let protocol = |what: &str| Error::Worker(format!("bad request from the parent: {what}"));
    let mut magic = [0u8; 4];
    input
        .read_exact(&mut magic)
        .map_err(|_| protocol("no header"))?;
    if &magic != MAGIC {
        return Err(protocol("wrong magic bytes"));
    }
    let head = (|| -> io::Result<_> {
        let version = read_u32(&mut input)?;
        let serial = read_u32(&mut input)?;
        let (w, h, max_iter) = (
            read_u32(&mut input)?,
            read_u32(&mut input)?,
            read_u32(&mut input)?,
        );
        let bounds = Bounds {
            xmin: read_f64(&mut input)?,
            xmax: read_f64(&mut input)?,
            ymin: read_f64(&mut input)?,
            ymax: read_f64(&mut input)?,
        };
        let mut k = [0u8; 2];
        input.read_exact(&mut k)?;
        Ok((version, serial, w, h, max_iter, bounds, k))
    })()
    .map_err(|_| protocol("short header"))?;
    let (version, serial, w, h, max_iter, bounds, [k, shortcuts]) = head;
    let shortcuts = if shortcuts == 0 {
        Shortcuts::Off
    } else {
        Shortcuts::On
    };
    if version != VERSION {
        return Err(protocol(&format!(
            "version {version}, this worker speaks {VERSION}"
        )));
    }
    let params = Params::new(Viewport::new(bounds, w, h)?, max_iter)?;
    let kernel = *Kernel::ALL
        .get(k as usize)
        .ok_or_else(|| protocol(&format!("kernel index {k}")))?;
    if !kernel.is_available() {
        return Err(protocol(&format!("kernel {kernel} is not available here")));
    }
    let abort_after = fault.and_then(|f| f.tasks_before_abort(serial));

    let mut sent = 0u32;
    let mut counts = Vec::new();
    let mut bytes = Vec::new();
    loop {
        let first = match read_u64(&mut input) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()), // closed
            Err(e) => return Err(Error::Worker(format!("reading a task: {e}"))),
        };
        let len = read_u32(&mut input).map_err(|_| protocol("short task"))?;
        let vp = &params.viewport;
        if len == 0 || first.saturating_add(u64::from(len)) > vp.pixels() {
            return Err(protocol(&format!(
                "pixels {first}+{len} of {}",
                vp.pixels()
            )));
        }
        counts.clear();
        counts.resize(len as usize, 0);
        let never = mandel_kernel::Stop::never();
        let skipped = kernel
            .render_span(vp, first, max_iter, shortcuts, never, &mut counts)
            .expect("a render that is never stopped finishes");
        bytes.clear();
        bytes.extend_from_slice(&first.to_le_bytes());
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&skipped.to_le_bytes());
        bytes.extend(counts.iter().flat_map(|c| c.to_le_bytes()));
        output.write_all(&bytes).map_err(Error::Write)?;
        output.flush().map_err(Error::Write)?;
        sent += 1;
        if abort_after.is_some_and(|k| sent >= k) {
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(
            Fault::parse("abort-first-worker-after:3").unwrap(),
            Fault::AbortFirstWorkerAfter(3)
        );
        assert_eq!(
            Fault::parse("abort-every-worker-after:0").unwrap(),
            Fault::AbortEveryWorkerAfter(0)
        );
        for bad in ["", "abort", "abort-first-worker-after:x", "explode:1"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn worker_answers_tasks_with_the_kernels_rows() {
        // Drive the worker side in-process through byte buffers.
        let params = Params::new(Viewport::seed(9, 5).unwrap(), 100).unwrap();
        let mut request = Vec::new();
        request.extend_from_slice(MAGIC);
        for v in [VERSION, 0, 9, 5, 100] {
            request.extend_from_slice(&v.to_le_bytes());
        }
        for v in [-2.5f64, 1.0, -1.0, 1.0] {
            request.extend_from_slice(&v.to_le_bytes());
        }
        request.extend([0, 1]); // scalar, shortcuts on
        // Rows 3 and 4, then the first row's last four pixels.
        for (first, len) in [(27u64, 18u32), (5, 4)] {
            request.extend_from_slice(&first.to_le_bytes());
            request.extend_from_slice(&len.to_le_bytes());
        }
        let mut reply = Vec::new();
        serve_worker(&request[..], &mut reply, None).unwrap();
        let words: Vec<u32> = reply
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let engine = crate::render::Engine::new(crate::Pool::Sequential, Kernel::Scalar);
        let (grid, _) = crate::render::render(&params, &engine, &|_| {}).unwrap();
        // Each answer: the first pixel as two words, the pixels, the skipped iterations as two
        // words (0: scalar), the counts.
        assert_eq!(words[..5], [27, 0, 18, 0, 0]);
        assert_eq!(words[5..23], grid.counts()[27..45]);
        assert_eq!(words[23..28], [5, 0, 4, 0, 0]);
        assert_eq!(words[28..], grid.counts()[5..9]);
    }

    #[test]
    fn worker_refuses_garbage() {
        let mut out = Vec::new();
        let e = serve_worker(&b"HTTP/1.1"[..], &mut out, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("magic"), "{e}");
        let e = serve_worker(&b"MN"[..], &mut out, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("header"), "{e}");
    }
}
