//! The seed's `multiprocessing.Pool`, with processes: worker processes of the same program
//! take tasks (a few rows each) from the parent over pipes and send the counts back.
//!
//! Map, close, join, as the seed does: the parent hands out tasks dynamically (a worker gets
//! the next one when it returns the last), then closes every worker's input and waits for it.
//! A worker that dies is noticed when its pipe closes; its task goes back on the queue and a
//! replacement is started, up to [`MAX_REPLACEMENTS`] times in one render.
//!
//! Protocol (all integers and floats little-endian):
//! - parent to worker, once: `b"MNDL"`, version u32, worker serial u32, width u32, height u32,
//!   max_iter u32, xmin xmax ymin ymax f64, kernel u8 (index in [`Kernel::ALL`]), shortcuts
//!   u8 (1 on, 0 off);
//! - parent to worker, per task: first_row u32, rows u32; end of input means "close";
//! - worker to parent, per task: first_row u32, rows u32, the iterations the kernel's
//!   shortcuts skipped u64, then rows*width counts u32.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};

use crate::error::{Error, Result};
use mandel_kernel::{Bounds, Kernel, Shortcuts, Viewport};

use crate::Grid;
use crate::render::{Band, Params, rows_per_task};

const MAGIC: &[u8; 4] = b"MNDL";
const VERSION: u32 = 3;

/// Replacement workers started in one render before it gives up: a worker that dies once is
/// bad luck; one that keeps dying is a bug or a hostile machine.
pub(crate) const MAX_REPLACEMENTS: u32 = 3;

/// The environment variable that makes workers fail on purpose, for tests:
/// `abort-first-worker-after:K` (the first worker aborts after sending K rows; its
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

/// Children alive now, so that an interrupt handler can kill and reap them; once `closed`, no
/// worker is started any more (a pool must not replace the workers the handler killed).
struct Live {
    pids: Vec<u32>,
    closed: bool,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    pids: Vec::new(),
    closed: false,
});

/// Kills and reaps every worker process still alive, and stops pools from starting more (for
/// a SIGINT handler, before the process exits).
pub fn kill_all_workers() {
    let pids = match LIVE.lock() {
        Ok(mut live) => {
            live.closed = true;
            std::mem::take(&mut live.pids)
        }
        Err(_) => return,
    };
    for pid in pids {
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

struct Worker {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(
        cmd: &WorkerCommand,
        serial: u32,
        params: &Params,
        kernel: Kernel,
        shortcuts: Shortcuts,
    ) -> Result<Self> {
        // Spawning under the lock: the interrupt handler either sees this child or stops it
        // from being started.
        let mut live = LIVE
            .lock()
            .map_err(|_| Error::Worker("worker registry poisoned".into()))?;
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
        live.pids.push(child.id());
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

    /// Sends one task and reads its rows into `counts`; returns the iterations the worker's
    /// shortcuts skipped. An I/O error means the worker died.
    fn run(
        &mut self,
        first_row: u32,
        rows: u32,
        width: u32,
        counts: &mut Vec<u32>,
    ) -> io::Result<u64> {
        self.input.write_all(&first_row.to_le_bytes())?;
        self.input.write_all(&rows.to_le_bytes())?;
        self.input.flush()?;
        let got_first = read_u32(&mut self.output)?;
        let got_rows = read_u32(&mut self.output)?;
        if (got_first, got_rows) != (first_row, rows) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "sent rows {got_first}+{got_rows} when asked for {first_row}+{rows} (protocol error)"
                ),
            ));
        }
        let mut skipped = [0u8; 8];
        self.output.read_exact(&mut skipped)?;
        let n = rows as usize * width as usize;
        let mut bytes = vec![0u8; n * 4];
        self.output.read_exact(&mut bytes)?;
        counts.clear();
        counts.extend(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().unwrap())),
        );
        Ok(u64::from_le_bytes(skipped))
    }

    /// Closes the worker's input (its signal to exit) and waits for it: no zombies.
    fn close(self) -> io::Result<std::process::ExitStatus> {
        let Worker {
            mut child, input, ..
        } = self;
        drop(input);
        let status = child.wait();
        forget_pid(child.id());
        status
    }

    /// Reaps a worker whose pipe broke, killing it first in case only the pipe died.
    fn reap(mut self) -> String {
        let _ = self.child.kill();
        let status = self.child.wait();
        forget_pid(self.child.id());
        match status {
            Ok(s) => describe_exit(s),
            Err(e) => format!("could not be waited for: {e}"),
        }
    }
}

fn forget_pid(pid: u32) {
    if let Ok(mut live) = LIVE.lock() {
        live.pids.retain(|&p| p != pid);
    }
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

fn read_f64(r: &mut impl Read) -> io::Result<f64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(f64::from_le_bytes(b))
}

/// Renders `params` on `jobs` worker processes started by `cmd` into `grid` (which holds
/// `params.rows`), and returns the iterations the kernels' shortcuts skipped. The grid is
/// identical to the sequential one; `on_band` is called with each band of rows as it arrives.
pub(crate) fn render_into(
    params: &Params,
    kernel: Kernel,
    shortcuts: Shortcuts,
    jobs: NonZeroUsize,
    cmd: &WorkerCommand,
    grid: &mut Grid,
    on_band: &(dyn Fn(Band) + Sync),
) -> Result<u64> {
    let vp = params.viewport;
    let (first, last) = (params.rows.start, params.rows.end);
    let per_task = rows_per_task(vp.width()) as u32;
    let queue: Mutex<VecDeque<(u32, u32)>> = Mutex::new(
        (first..last)
            .step_by(per_task as usize)
            .map(|r| (r, per_task.min(last - r)))
            .collect(),
    );
    let serials = AtomicU32::new(0);
    let replacements = AtomicU32::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<(u32, Vec<u32>, u64)>>();

    let mut failure = None;
    let mut total_skipped = 0;
    std::thread::scope(|s| {
        for _ in 0..jobs.get() {
            let tx = tx.clone();
            let (queue, serials, replacements, stop) = (&queue, &serials, &replacements, &stop);
            s.spawn(move || {
                let spawn = || Worker::spawn(cmd, serials.fetch_add(1, Ordering::Relaxed), params, kernel, shortcuts);
                let mut worker = match spawn() {
                    Ok(w) => w,
                    Err(e) => return drop(tx.send(Err(e))),
                };
                let mut counts = Vec::new();
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some((first_row, rows)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    match worker.run(first_row, rows, vp.width(), &mut counts) {
                        Ok(skipped) => {
                            let counts = std::mem::take(&mut counts);
                            if tx.send(Ok((first_row, counts, skipped))).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                            let pid = worker.child.id();
                            worker.reap();
                            let _ = tx.send(Err(Error::Worker(format!("worker {pid} {e}"))));
                            return;
                        }
                        Err(_) => {
                            // The worker died: its task goes back, a replacement takes over.
                            queue.lock().unwrap().push_front((first_row, rows));
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

        let width = vp.width() as usize;
        let mut rows_done = 0;
        for msg in rx.iter() {
            match msg {
                Ok((first_row, counts, skipped)) => {
                    let start = (first_row - first) as usize * width;
                    grid.counts_mut()[start..start + counts.len()].copy_from_slice(&counts);
                    total_skipped += skipped;
                    let band = Band {
                        first_row,
                        counts: &counts,
                        width: vp.width(),
                    };
                    rows_done += band.rows();
                    on_band(band);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(e);
                }
            }
        }
        if failure.is_none() && rows_done != last - first {
            failure = Some(Error::Worker(format!(
                "workers returned {rows_done} of {} rows",
                last - first
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

    fn rows_before_abort(self, serial: u32) -> Option<u32> {
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
    let abort_after = fault.and_then(|f| f.rows_before_abort(serial));

    let mut sent = 0u32;
    let mut counts = Vec::new();
    let mut bytes = Vec::new();
    loop {
        let first_row = match read_u32(&mut input) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()), // closed
            Err(e) => return Err(Error::Worker(format!("reading a task: {e}"))),
        };
        let rows = read_u32(&mut input).map_err(|_| protocol("short task"))?;
        if rows == 0 || u64::from(first_row) + u64::from(rows) > u64::from(h) {
            return Err(protocol(&format!("rows {first_row}+{rows} of {h}")));
        }
        counts.clear();
        counts.resize(rows as usize * w as usize, 0);
        let skipped = kernel.render_rows(
            &params.viewport,
            first_row,
            max_iter,
            shortcuts,
            &mut counts,
        );
        bytes.clear();
        bytes.extend_from_slice(&first_row.to_le_bytes());
        bytes.extend_from_slice(&rows.to_le_bytes());
        bytes.extend_from_slice(&skipped.to_le_bytes());
        bytes.extend(counts.iter().flat_map(|c| c.to_le_bytes()));
        output.write_all(&bytes).map_err(Error::Write)?;
        output.flush().map_err(Error::Write)?;
        sent += rows;
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
        for (first, rows) in [(3u32, 2u32), (0, 1)] {
            request.extend_from_slice(&first.to_le_bytes());
            request.extend_from_slice(&rows.to_le_bytes());
        }
        let mut reply = Vec::new();
        serve_worker(&request[..], &mut reply, None).unwrap();
        let words: Vec<u32> = reply
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let engine = crate::render::Engine::new(crate::Pool::Sequential, Kernel::Scalar);
        let (grid, _) = crate::render::render(&params, &engine, &|_| {}).unwrap();
        // Each answer: first row, rows, the skipped iterations as two words (0: scalar), counts.
        assert_eq!(words[..4], [3, 2, 0, 0]);
        assert_eq!(words[4..22], grid.counts()[27..45]);
        assert_eq!(words[22..26], [0, 1, 0, 0]);
        assert_eq!(words[26..], grid.counts()[..9]);
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
