//! `mandel._mandel`: the Python extension behind `import mandel`. It only translates: keyword
//! arguments become a `mandel::Job` (the library checks every value and names the bad one),
//! the counts come back as a numpy array that owns the job's buffer. Python's own package
//! (`python/mandel/`) documents the API and adds the seed's functions as drop-ins.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use mandel::{AtomicFile, Cancel, Field, Job, Kernel, Pool, Shortcuts, View};
use numpy::{
    PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// How often a render looks for Ctrl-C (and any other signal Python wants to handle).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The library's error as Python's: bad arguments are `ValueError`s with the library's message,
/// which names the argument as Python spells it (`max_iter = 0 must be at least 1`); a file
/// that cannot be read or written is an `OSError` of the matching kind.
fn py_err(e: mandel::Error) -> PyErr {
    if let mandel::Error::Io { err, .. } = &e {
        // `PermissionError`, `FileNotFoundError`... with the library's message, which names
        // the file.
        return std::io::Error::new(err.kind(), e.to_string()).into();
    }
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

/// A point (a centre or a reference) as `(re, im)` or as the text `"re,im"`.
#[derive(FromPyObject)]
enum Center {
    Pair(Number, Number),
    Text(String),
}

impl Center {
    /// The point as `RE,IM`.
    fn text(self) -> String {
        match self {
            Center::Pair(re, im) => format!("{},{}", re.text(), im.text()),
            Center::Text(s) => s,
        }
    }
}

/// The reference orbits (and their BLA maps) of this process's deep renders: a second
/// render of a view, at another size or colouring, skips its orbit.
static ORBITS: std::sync::LazyLock<mandel::OrbitCache> =
    std::sync::LazyLock::new(|| mandel::OrbitCache::new(64 << 20));

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

/// A job made by [`job`]: every value checked, ready for [`counts`], [`picture`] or [`save`].
#[pyclass(frozen, name = "Job", module = "mandel._mandel")]
struct PyJob(Job);

#[pymethods]
impl PyJob {
    /// The job's canonical text: what its pictures carry and `mandel render --from` reads.
    fn canonical(&self) -> PyResult<String> {
        self.0.canonical().map_err(py_err)
    }
}

/// The job that the keyword arguments of `mandel.render`, `mandel.picture` and `mandel.save`
/// describe; `style` holds the picture's (key, text) pairs in the canonical form's spelling.
#[pyfunction]
#[pyo3(signature = (
    width=400, height=400, max_iter=1000, xmin=None, xmax=None, ymin=None, ymax=None, *,
    center=None, zoom=None, reference=None, rows=None, precision="auto", kernel="auto", jobs=None,
    pool="threads", shortcuts=true, style=Vec::new()
))]
#[allow(clippy::too_many_arguments)]
fn job(
    width: u32,
    height: u32,
    max_iter: u32,
    xmin: Option<f64>,
    xmax: Option<f64>,
    ymin: Option<f64>,
    ymax: Option<f64>,
    center: Option<Center>,
    zoom: Option<Number>,
    reference: Option<Center>,
    rows: Option<(u32, u32)>,
    precision: &str,
    kernel: &str,
    jobs: Option<usize>,
    pool: &str,
    shortcuts: bool,
    style: Vec<(String, String)>,
) -> PyResult<PyJob> {
    let pool = PoolKind::parse(pool)?;
    let mut view = View::seed();
    if let Some(center) = center {
        view.set(Field::Center, &center.text()).map_err(py_err)?;
        let zoom = zoom.map_or("1".to_string(), |z| z.text());
        view.set(Field::Zoom, &zoom).map_err(py_err)?;
    } else if let Some(zoom) = zoom {
        let err = mandel::Error::invalid(Field::Zoom, zoom.text(), "needs a center");
        return Err(py_err(err));
    }
    if let Some(point) = reference {
        view.set(Field::Reference, &point.text()).map_err(py_err)?;
    }
    let fields = [Field::Xmin, Field::Xmax, Field::Ymin, Field::Ymax];
    for (field, edge) in fields.into_iter().zip([xmin, xmax, ymin, ymax]) {
        if let Some(x) = edge {
            view.set(field, &format!("{x:?}")).map_err(py_err)?;
        }
    }
    let kernel = Kernel::select(kernel).map_err(|e| py_err(e.into()))?;
    let jobs = match jobs {
        Some(n) => std::num::NonZeroUsize::new(n)
            .ok_or_else(|| py_err(mandel::Error::invalid(Field::Jobs, n, "must be at least 1")))?,
        None => mandel::available_cores(),
    };
    let mut job = Job {
        view,
        width,
        height,
        max_iter,
        rows: rows.map(|(start, end)| start..end),
        kernel,
        pool: match pool {
            PoolKind::Threads => Pool::Threads { jobs },
            PoolKind::Sequential => Pool::Sequential,
        },
        shortcuts: if shortcuts {
            Shortcuts::On
        } else {
            Shortcuts::Off
        },
        format: mandel::Format::Npy,
        orbits: Some(ORBITS.clone()),
        ..Job::default()
    };
    job.set("precision", precision).map_err(py_err)?;
    if !style.is_empty() {
        job.format = mandel::Format::Png;
        for (key, value) in &style {
            job.set(key, value).map_err(py_err)?;
        }
    }
    job.check().map_err(py_err)?;
    Ok(PyJob(job))
}

/// The job's escape counts, as a uint32 array of shape (rows, width), row 0 at ymin, that owns
/// the renderer's buffer.
#[pyfunction]
fn counts<'py>(py: Python<'py>, job: &PyJob) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let (job, cancel) = cancellable(&job.0);
    let (width, rows) = (job.width as usize, job.row_range().len());
    let counts = py.detach(|| run_interruptibly(&cancel, || job.counts()))?;
    PyArray1::from_vec(py, counts.into_counts()).reshape([rows, width])
}

/// The job's picture in its style, as a uint8 array of shape (rows, width, 3), row 0 at ymin
/// (as the counts), that owns the renderer's buffer.
#[pyfunction]
fn picture<'py>(py: Python<'py>, job: &PyJob) -> PyResult<Bound<'py, PyArray3<u8>>> {
    let (job, cancel) = cancellable(&job.0);
    let (width, rows) = (job.width as usize, job.row_range().len());
    let mut rgb = py
        .detach(|| run_interruptibly(&cancel, || job.picture()))?
        .0;
    flip_rows(&mut rgb, width * 3);
    PyArray1::from_vec(py, rgb).reshape([rows, width, 3])
}

/// Renders the job into the file at `path`, in `format` (by default the one its extension
/// names), with the job's parameters embedded as the command's pictures carry them. The file
/// appears whole or not at all.
#[pyfunction]
#[pyo3(signature = (job, path, format=None))]
fn save(py: Python<'_>, job: &PyJob, path: PathBuf, format: Option<&str>) -> PyResult<()> {
    let (mut job, cancel) = cancellable(&job.0);
    job.format = match format {
        Some(name) => name.parse().map_err(py_err)?,
        None => mandel::Format::from_path(&path).map_err(py_err)?,
    };
    job.check().map_err(py_err)?;
    py.detach(|| {
        run_interruptibly(&cancel, || {
            let mut file = AtomicFile::create(&path)?;
            job.run(file.file())?;
            file.commit()
        })
    })
}

/// Colours escape counts as the command's pictures colour them: a uint8 array of shape
/// (rows, width, 3) in the counts' own order. `style` holds (key, text) pairs, as [`job`]'s.
#[pyfunction]
#[pyo3(signature = (counts, max_iter=None, style=Vec::new()))]
fn colorize<'py>(
    py: Python<'py>,
    counts: PyReadonlyArray2<'py, u32>,
    max_iter: Option<u32>,
    style: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyArray3<u8>>> {
    let mut job = Job::default();
    for (key, value) in &style {
        job.set(key, value).map_err(py_err)?;
    }
    let [rows, width] = *counts.shape() else {
        unreachable!("a two-dimensional array")
    };
    let values = counts.as_slice()?;
    let max_iter = max_iter.unwrap_or_else(|| values.iter().copied().max().unwrap_or(1));
    let colors = py
        .detach(|| job.style.colorize_counts(values, max_iter))
        .map_err(py_err)?;
    let rgb: Vec<u8> = colors.into_iter().flatten().collect();
    PyArray1::from_vec(py, rgb).reshape([rows, width, 3])
}

/// A copy of `job` with a cancel handle of its own, and the handle.
fn cancellable(job: &Job) -> (Job, Cancel) {
    let cancel = Cancel::new();
    let job = Job {
        cancel: Some(cancel.clone()),
        ..job.clone()
    };
    (job, cancel)
}

/// Reverses the order of the rows of `row_len` bytes, in place: pictures come top row first,
/// the package's arrays row 0 (ymin) first.
fn flip_rows(bytes: &mut [u8], row_len: usize) {
    let rows = bytes.len() / row_len.max(1);
    for r in 0..rows / 2 {
        let (top, bottom) = bytes.split_at_mut((rows - 1 - r) * row_len);
        top[r * row_len..(r + 1) * row_len].swap_with_slice(&mut bottom[..row_len]);
    }
}

/// Runs `work` on a thread of its own while this thread, which holds no GIL, looks for
/// signals every [`SIGNAL_POLL`]: a Ctrl-C raises `cancel`, which stops the work, and comes
/// back as `KeyboardInterrupt`.
fn run_interruptibly<T: Send>(
    cancel: &Cancel,
    work: impl FnOnce() -> mandel::Result<T> + Send,
) -> PyResult<T> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        s.spawn(move || {
            let _ = tx.send(work());
        });
        loop {
            match rx.recv_timeout(SIGNAL_POLL) {
                Ok(result) => return result.map_err(py_err),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        // The work stops within milliseconds; its result is not wanted.
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
    m.add_class::<PyJob>()?;
    m.add_function(wrap_pyfunction!(job, m)?)?;
    m.add_function(wrap_pyfunction!(counts, m)?)?;
    m.add_function(wrap_pyfunction!(picture, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(colorize, m)?)?;
    m.add_function(wrap_pyfunction!(kernels, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    Ok(())
}
