//! `mandel._mandel`: the Python extension behind `import mandel`. It only translates: keyword
//! arguments become a `mandel::Job` (the library checks every value and names the bad one),
//! the counts come back as a numpy array that owns the job's buffer. Python's own package
//! (`python/mandel/`) documents the API and adds the seed's functions as drop-ins.

use std::sync::mpsc;
use std::time::Duration;

use mandel::{Cancel, Field, Job, Kernel, Pool, Shortcuts, View};
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// How often a render looks for Ctrl-C (and any other signal Python wants to handle).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The library's error as Python's: bad arguments are `ValueError`s with the library's message,
/// which names the argument as Python spells it (`max_iter = 0 must be at least 1`).
fn py_err(e: mandel::Error) -> PyErr {
    if e.is_usage() {
        PyValueError::new_err(e.to_string())
    } else {
        PyRuntimeError::new_err(e.to_string())
    }
}

/// A value given as a number or as text (centre and zoom also take decimal strings).
#[derive(FromPyObject)]
enum Number {
    Float(f64),
    Text(String),
}

impl Number {
    fn text(&self) -> String {
        match self {
            // `{:?}` prints the shortest text that reads back as the same double.
            Number::Float(x) => format!("{x:?}"),
            Number::Text(s) => s.clone(),
        }
    }
}

/// A centre as `(re, im)` or as the text `"re,im"`.
#[derive(FromPyObject)]
enum Center {
    Pair(Number, Number),
    Text(String),
}

/// The pools a Python caller may choose (a process pool needs a program to start).
#[derive(Clone, Copy)]
enum PoolKind {
    Threads,
    Sequential,
}

impl PoolKind {
    fn parse(s: &str) -> PyResult<Self> {
        match s {
            "threads" => Ok(PoolKind::Threads),
            "sequential" => Ok(PoolKind::Sequential),
            other => Err(PyValueError::new_err(format!(
                "pool = {other} is not known (choose threads or sequential)"
            ))),
        }
    }
}

/// The job that `render`'s arguments describe.
#[allow(clippy::too_many_arguments)]
fn job(
    width: u32,
    height: u32,
    max_iter: u32,
    edges: [Option<f64>; 4],
    center: Option<Center>,
    zoom: Option<Number>,
    rows: Option<(u32, u32)>,
    kernel: &str,
    jobs: Option<usize>,
    pool: PoolKind,
    shortcuts: bool,
) -> mandel::Result<Job> {
    let mut view = View::seed();
    if let Some(center) = center {
        let text = match center {
            Center::Pair(re, im) => format!("{},{}", re.text(), im.text()),
            Center::Text(s) => s,
        };
        view.set(Field::Center, &text)?;
        view.set(Field::Zoom, &zoom.map_or("1".to_string(), |z| z.text()))?;
    } else if let Some(zoom) = zoom {
        return Err(mandel::Error::invalid(
            Field::Zoom,
            zoom.text(),
            "needs a center",
        ));
    }
    let fields = [Field::Xmin, Field::Xmax, Field::Ymin, Field::Ymax];
    for (field, edge) in fields.into_iter().zip(edges) {
        if let Some(x) = edge {
            view.set(field, &format!("{x:?}"))?;
        }
    }
    let kernel = Kernel::select(kernel)?;
    let jobs = match jobs {
        Some(n) => std::num::NonZeroUsize::new(n)
            .ok_or_else(|| mandel::Error::invalid(Field::Jobs, n, "must be at least 1"))?,
        None => mandel::available_cores(),
    };
    let pool = match pool {
        PoolKind::Threads => Pool::Threads { jobs },
        PoolKind::Sequential => Pool::Sequential,
    };
    let job = Job {
        view,
        width,
        height,
        max_iter,
        rows: rows.map(|(start, end)| start..end),
        kernel,
        pool,
        shortcuts: if shortcuts {
            Shortcuts::On
        } else {
            Shortcuts::Off
        },
        format: mandel::Format::Npy,
        ..Job::default()
    };
    job.check()?;
    Ok(job)
}

/// Escape counts of the Mandelbrot set, as a uint32 array of shape (rows, width), row 0 at
/// ymin. See `mandel.render` for the arguments.
#[pyfunction]
#[pyo3(signature = (
    width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None, ymax=None, *,
    center=None, zoom=None, rows=None, kernel="auto", jobs=None, pool="threads", shortcuts=true
))]
#[allow(clippy::too_many_arguments)]
fn render<'py>(
    py: Python<'py>,
    width: u32,
    height: u32,
    max_iter: u32,
    xmin: Option<f64>,
    xmax: Option<f64>,
    ymin: Option<f64>,
    ymax: Option<f64>,
    center: Option<Center>,
    zoom: Option<Number>,
    rows: Option<(u32, u32)>,
    kernel: &str,
    jobs: Option<usize>,
    pool: &str,
    shortcuts: bool,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let edges = [xmin, xmax, ymin, ymax];
    let pool = PoolKind::parse(pool)?;
    let job = job(
        width, height, max_iter, edges, center, zoom, rows, kernel, jobs, pool, shortcuts,
    )
    .map_err(py_err)?;
    let cancel = Cancel::new();
    let job = Job {
        cancel: Some(cancel.clone()),
        ..job
    };
    let (width, rows) = (job.width as usize, job.row_range().len());
    let counts = py.detach(|| run_interruptibly(&job, &cancel))?;
    let flat = PyArray1::from_vec(py, counts);
    flat.reshape([rows, width])
}

/// Runs `job` on a thread of its own while this thread, which holds no GIL, looks for signals
/// every [`SIGNAL_POLL`]: a Ctrl-C cancels the render and raises `KeyboardInterrupt`.
fn run_interruptibly(job: &Job, cancel: &Cancel) -> PyResult<Vec<u32>> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        s.spawn(move || {
            let _ = tx.send(job.counts());
        });
        loop {
            match rx.recv_timeout(SIGNAL_POLL) {
                Ok(result) => return result.map(mandel::Grid::into_counts).map_err(py_err),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        // The render stops within milliseconds; its result is not wanted.
                        let _ = rx.recv();
                        return Err(e);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err("the render thread panicked"));
                }
            }
        }
    })
}

/// The kernels this CPU can run, slowest first (any of them gives the same counts).
#[pyfunction]
fn kernels() -> Vec<&'static str> {
    Kernel::available().into_iter().map(Kernel::name).collect()
}

/// Called in a child process after `os.fork` (see `mandel/__init__.py`): the parent's thread
/// pools do not exist there.
#[pyfunction]
fn _after_fork_in_child() {
    mandel::forget_thread_pools_after_fork();
}

#[pymodule]
fn _mandel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(kernels, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    Ok(())
}
