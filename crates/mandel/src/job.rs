//! [`Job`]: one description of a render, for every front end, with its one canonical text.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use mandel_deep::FloatExp;
use mandel_kernel::{Kernel, Shortcuts, Viewport};

use crate::cancel::Cancel;
use crate::color::Colormap;
use crate::deep::{DeepParams, Precision};
use crate::error::{Error, Field, Result};
use crate::orbits::OrbitCache;
use crate::output::{self, Format};
use crate::render::{Engine, Params, Pool};
use crate::style::{self, ColorMode, Style};
use crate::view::View;

/// Hears how far a render has come: pixels (or samples) done, out of a total (the total counts
/// every pass the job makes). Called from the threads doing the work.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Everything about one render: what to compute and how to encode it (the fields that decide
/// the output's bytes, and the canonical text form: [`Job::canonical`]), and how to carry it
/// out (`kernel`, `shortcuts`, `pool`, `streaming`, `deadline`, `cancel`, `progress`: never a
/// byte of the output).
///
/// The command line, the server and any other front end fill one in, then call
/// [`Job::run`] (or [`Job::counts`]); every value is checked there, in one place.
///
/// ```
/// use mandel::{Format, Job};
/// let job = Job {
///     width: 40,
///     height: 20,
///     max_iter: 100,
///     format: Format::Npy,
///     ..Job::default()
/// };
/// let grid = job.counts()?;
/// assert_eq!(grid.row(10)[16], 100); // (-1.1, 0) is in the set
/// assert!(job.canonical()?.starts_with("width=40&height=20&max_iter=100&xmin=-2.5"));
/// # Ok::<(), mandel::Error>(())
/// ```
#[derive(Clone)]
pub struct Job {
    /// Where in the plane.
    pub view: View,
    /// Pixels per row.
    pub width: u32,
    /// Rows of the whole picture.
    pub height: u32,
    /// Iteration limit: a pixel that reaches it is taken to be in the set.
    pub max_iter: u32,
    /// The arithmetic: the seed's doubles, or perturbation past their reach.
    pub precision: Precision,
    /// The rows to render, row 0 sampling the view's bottom edge; `None`: all of them. A
    /// pixel's value depends only on its place in the whole picture.
    pub rows: Option<Range<u32>>,
    /// How counts become colours (pictures only).
    pub style: Style,
    /// The output's format.
    pub format: Format,
    /// The escape-time kernel (all give the same counts).
    pub kernel: Kernel,
    /// Whether proven shortcuts may skip work (the same counts either way).
    pub shortcuts: Shortcuts,
    /// How rows are mapped onto workers.
    pub pool: Pool,
    /// Whether the output is streamed row by row or encoded from the grid held whole.
    pub streaming: Streaming,
    /// A render still running at this instant stops with [`Error::DeadlineExceeded`], within
    /// a millisecond or two: the kernels poll it at a bounded granularity, however long a
    /// row or an orbit is.
    pub deadline: Option<Instant>,
    /// Raised from another thread, it stops the render with [`Error::Cancelled`] as soon.
    pub cancel: Option<Cancel>,
    /// Hears of progress, if set.
    pub progress: Option<ProgressFn>,
    /// Past double precision, where the reference orbit and its BLA maps are looked for
    /// and left, to be shared with other renders of the same reference point (the tiles of
    /// a map); `None`: computed for this render alone.
    pub orbits: Option<OrbitCache>,
}

impl Default for Job {
    /// The seed's picture: 400×400, max-iter 1000, the seed's view, viridis, as a PNG, on
    /// threads on every core with the fastest kernel this CPU has.
    fn default() -> Self {
        Job {
            view: View::seed(),
            width: 400,
            height: 400,
            max_iter: 1000,
            precision: Precision::Auto,
            rows: None,
            style: Style::default(),
            format: Format::Png,
            kernel: Kernel::best(),
            shortcuts: Shortcuts::On,
            pool: Pool::all_cores(),
            streaming: Streaming::Auto,
            deadline: None,
            cancel: None,
            progress: None,
            orbits: None,
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("view", &self.view)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("max_iter", &self.max_iter)
            .field("precision", &self.precision)
            .field("rows", &self.rows)
            .field("style", &self.style)
            .field("format", &self.format)
            .field("kernel", &self.kernel)
            .field("shortcuts", &self.shortcuts)
            .field("pool", &self.pool)
            .field("streaming", &self.streaming)
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel)
            .field("orbits", &self.orbits)
            .finish_non_exhaustive()
    }
}

/// `pairs` as a query string, keys by their names.
fn query_string(pairs: &[(Field, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(f, v)| (f.name(), v.as_str())))
        .finish()
}

/// Whether [`Job::run`] streams its output row by row, so that memory stays bounded whatever
/// the size, or encodes it from the grid held whole (faster for colours that need every
/// sample, which a stream computes twice). The same bytes either way, but for encoders that
/// chunk differently (a PNG's pixels are the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Streaming {
    /// Streamed past `STREAM_ABOVE_SAMPLES` samples (a 4096×4096 picture), held below.
    #[default]
    Auto,
    /// Streamed whenever the format and pool allow it.
    Always,
    /// Held whole (within this machine's memory), whatever the size.
    Never,
}

impl Streaming {
    /// The name, as `--stream` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Streaming::Auto => "auto",
            Streaming::Always => "always",
            Streaming::Never => "never",
        }
    }
}

impl fmt::Display for Streaming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Streaming {
    type Err = Error;
    fn from_str(s: &str) -> Result<Streaming> {
        [Streaming::Auto, Streaming::Always, Streaming::Never]
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| {
                Error::invalid(
                    Field::Streaming,
                    s,
                    "is not a streaming mode (choose auto, always or never)",
                )
            })
    }
}

/// The keys [`Job::set`] takes besides `format`, in the canonical text's order (the view's
/// are passed on to [`View::set`]).
const KEYS: [Field; 18] = [
    Field::Width,
    Field::Height,
    Field::MaxIter,
    Field::Xmin,
    Field::Xmax,
    Field::Ymin,
    Field::Ymax,
    Field::Center,
    Field::Zoom,
    Field::Reference,
    Field::Precision,
    Field::Rows,
    Field::Color,
    Field::Colormap,
    Field::Cycle,
    Field::Offset,
    Field::Inside,
    Field::Supersample,
];

/// A validated job, ready to run: what the scheduler, the painter and the encoders take.
pub(crate) struct Plan {
    pub params: Params,
    pub engine: Engine,
    pub style: Style,
    pub format: Format,
}

impl Job {
    /// Sets one parameter from text, as the canonical form spells it: `width`, `height`,
    /// `max_iter`, the view's (`xmin`, `xmax`, `ymin`, `ymax`, `center`, `zoom`,
    /// `reference`), `rows`
    /// (`START..END`), `color`, `colormap`, `cycle`, `offset`, `inside`, `supersample`,
    /// `format`. Values are range-checked later, by [`Job::run`] and the other entry points.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let unknown = || Error::UnknownParameter {
            name: key.to_string(),
            value: value.to_string(),
        };
        let field = key_field(key).ok_or_else(unknown)?;
        let v = value.trim();
        let named = |e: Error| match e {
            Error::Invalid { reason, .. } => Error::invalid(field, v, reason),
            other => other,
        };
        match field {
            Field::Width => self.width = whole(field, v)?,
            Field::Height => self.height = whole(field, v)?,
            Field::MaxIter => self.max_iter = whole(field, v)?,
            Field::Supersample => self.style.supersample = whole(field, v)?,
            Field::Rows => self.rows = Some(row_range(v)?),
            Field::Color => self.style.mode = v.parse::<ColorMode>().map_err(named)?,
            Field::Colormap => self.style.colormap = v.parse::<Colormap>().map_err(named)?,
            Field::Format => self.format = v.parse::<Format>().map_err(named)?,
            Field::Precision => self.precision = v.parse::<Precision>().map_err(named)?,
            Field::Cycle => self.style.cycle = Some(finite(field, v)?),
            Field::Offset => self.style.offset = finite(field, v)?,
            Field::Inside => self.style.inside = Some(style::parse_color(v)?),
            _ => self.view.set(field, v)?,
        }
        Ok(())
    }

    /// The job `pairs` describe, every other parameter taking its default: a query string's
    /// pairs, or the canonical text's. A key given twice is refused.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Job> {
        let mut job = Job::default();
        // The fields set so far: only keys that `set` accepted get here.
        let mut seen: Vec<Field> = Vec::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            if let Some(field) = key_field(key)
                && seen.contains(&field)
            {
                return Err(Error::invalid(field, value, "is given more than once"));
            }
            job.set(key, value)?;
            seen.extend(key_field(key));
        }
        Ok(job)
    }

    /// The job a canonical text describes ([`Job::canonical`]). Also reads the form of
    /// earlier versions' pictures: `--key=value` options separated by spaces.
    pub fn from_canonical(text: &str) -> Result<Job> {
        let text = text.trim();
        if text.starts_with("--") {
            let pairs = text.split_whitespace().map(|option| {
                let option = option.trim_start_matches('-');
                let (key, value) = option.split_once('=').unwrap_or((option, ""));
                (key.replace('-', "_"), value.to_string())
            });
            return Job::from_pairs(pairs);
        }
        Job::from_pairs(form_urlencoded::parse(text.as_bytes()))
    }

    /// The job whose parameters the picture at `path` carries (a PNG or JPEG that
    /// [`Job::run`] wrote). The format is taken from the text too; a caller re-rendering into
    /// another file sets its own.
    pub fn from_picture(path: &Path) -> Result<Job> {
        let text = output::read_picture_params(path)?.ok_or_else(|| {
            Error::invalid(Field::From, path.display(), "carries no mandel parameters")
        })?;
        let stored = picture_text_params(&text).ok_or_else(|| {
            Error::invalid(
                Field::From,
                path.display(),
                format!("has unreadable parameters {text:?}"),
            )
        })?;
        Job::from_canonical(stored).map_err(|e| {
            Error::invalid(
                Field::From,
                path.display(),
                format!("has bad parameters: {e}"),
            )
        })
    }

    /// The one canonical text of what this job computes: its parameters as a query string,
    /// every one explicit, in a fixed order, numbers exact. It is what pictures carry, the
    /// server's re-render links and log rows hold, and [`Job::from_canonical`] reads back to
    /// the same output.
    pub fn canonical(&self) -> Result<String> {
        Ok(query_string(&self.canonical_pairs()?))
    }

    /// The canonical text of the whole job whatever its rows and format: what every shard
    /// of it carries, and what a merge of them compares.
    pub(crate) fn shard_text(&self) -> Result<String> {
        let mut pairs = self.canonical_pairs()?;
        pairs.retain(|(field, _)| !matches!(field, Field::Rows | Field::Format));
        Ok(query_string(&pairs))
    }

    /// The pairs of [`Job::canonical`], in its order.
    fn canonical_pairs(&self) -> Result<Vec<(Field, String)>> {
        let s = &self.style;
        let mut pairs: Vec<(Field, String)> = vec![
            (Field::Width, self.width.to_string()),
            (Field::Height, self.height.to_string()),
            (Field::MaxIter, self.max_iter.to_string()),
        ];
        let (w, h) = (self.width.max(1), self.height.max(1));
        let deep = self.precision.resolve(&self.view, w)? != Precision::Double;
        pairs.extend(self.view.canonical_pairs(w, h, deep)?);
        // Absent for auto, so that the texts of pictures made before it existed are unchanged.
        if self.precision != Precision::Auto {
            pairs.push((Field::Precision, self.precision.to_string()));
        }
        if let Some(rows) = &self.rows {
            pairs.push((Field::Rows, format!("{}..{}", rows.start, rows.end)));
        }
        pairs.push((Field::Color, s.mode.to_string()));
        pairs.push((Field::Colormap, s.colormap.to_string()));
        if let Some(n) = s.cycle {
            pairs.push((Field::Cycle, format!("{n:?}")));
        }
        if s.offset != 0.0 {
            pairs.push((Field::Offset, format!("{:?}", s.offset)));
        }
        if let Some([r, g, b]) = s.inside {
            pairs.push((Field::Inside, format!("#{r:02x}{g:02x}{b:02x}")));
        }
        if s.supersample > 1 {
            pairs.push((Field::Supersample, s.supersample.to_string()));
        }
        pairs.push((Field::Format, self.format.to_string()));
        Ok(pairs)
    }

    /// The text a picture carries: [`PICTURE_PREFIX`] and the canonical text.
    pub(crate) fn picture_text(&self) -> Result<String> {
        Ok(format!("{PICTURE_PREFIX}{}", self.canonical()?))
    }

    /// The pixel lattice the kernels sample (the whole picture, whatever [`Job::rows`] says).
    pub fn viewport(&self) -> Result<Viewport> {
        self.view.viewport(self.width, self.height)
    }

    /// The arithmetic the job runs in: its [`Job::precision`], with `auto` resolved for its
    /// view and size.
    pub fn arithmetic(&self) -> Result<Precision> {
        self.precision.resolve(&self.view, self.width)
    }

    /// A warning for a job that will run but not as its user hopes: doubles forced onto a
    /// view whose pixels they cannot tell apart. One line, or None.
    pub fn warning(&self) -> Option<String> {
        if self.precision != Precision::Double {
            return None;
        }
        let (spacing, largest) = self.view.scale(self.width).ok()?;
        let resolution = FloatExp::from(largest.max(f64::MIN_POSITIVE) * f64::EPSILON * 4.0);
        spacing.cmp_abs(resolution).is_lt().then(|| {
            format!(
                "doubles cannot tell this view's pixels apart (they are {:.3e} \
                 apart, a double's step there is {:.3e}): the picture will be blocks; \
                 precision auto renders it by perturbation instead",
                spacing.to_f64(),
                largest * f64::EPSILON
            )
        })
    }

    /// The view's edges in doubles, for logs and summaries, at any depth (see
    /// [`View::approximate_bounds`]).
    pub fn approximate_bounds(&self) -> Result<mandel_kernel::Bounds> {
        self.view.approximate_bounds(self.width, self.height)
    }

    /// The rows this job renders.
    pub fn row_range(&self) -> Range<u32> {
        self.rows.clone().unwrap_or(0..self.height)
    }

    /// Samples the job computes: pixels of its rows times `supersample²`, or None if that
    /// does not fit in 64 bits.
    pub fn samples(&self) -> Option<u64> {
        let k = u64::from(self.style.supersample);
        u64::from(self.width)
            .checked_mul(self.row_range().len() as u64)?
            .checked_mul(k)?
            .checked_mul(k)
    }

    /// Checks every value, as [`Job::run`] does first; the error names the first bad one.
    pub fn check(&self) -> Result<()> {
        self.plan().map(|_| ())
    }

    /// Checks every value (the error names the first bad one) and returns what runs.
    pub(crate) fn plan(&self) -> Result<Plan> {
        if self.width == 0 {
            return Err(Error::invalid(Field::Width, 0, "must be at least 1"));
        }
        if self.height == 0 {
            return Err(Error::invalid(Field::Height, 0, "must be at least 1"));
        }
        let precision = self.precision.resolve(&self.view, self.width)?;
        let mut params = if precision == Precision::Double {
            let viewport = self.viewport().map_err(|e| match e {
                // Edges that doubles cannot tell apart: say what can.
                Error::Invalid {
                    field,
                    value,
                    reason,
                } if self.precision == Precision::Double && self.view.is_centered() => {
                    Error::Invalid {
                        field,
                        value,
                        reason: format!(
                            "{reason}: doubles cannot resolve this view (precision auto or \
                             perturbation renders it)"
                        ),
                    }
                }
                e => e,
            })?;
            Params::new(viewport, self.max_iter)?
        } else {
            let view = self.view.deep(self.width, self.height)?;
            // The scheduler slices pixels by their place in a lattice of this size; which
            // point each samples is the deep view's.
            let stand_in = Viewport::new(mandel_kernel::SEED_BOUNDS, self.width, self.height)?;
            let mut params = Params::new(stand_in, self.max_iter)?;
            params.deep = Some(Arc::new(DeepParams {
                view,
                direct: precision == Precision::Direct,
            }));
            params
        };
        if let Some(rows) = &self.rows {
            if rows.start >= rows.end || rows.end > self.height {
                return Err(Error::invalid(
                    Field::Rows,
                    format!("{}..{}", rows.start, rows.end),
                    format!(
                        "must be a non-empty range of rows within 0..{}",
                        self.height
                    ),
                ));
            }
            params.rows = rows.clone();
        }
        self.style.validate()?;
        if self.style.supersample > 1 && !self.format.uses_colormap() {
            return Err(Error::invalid(
                Field::Supersample,
                self.style.supersample,
                format!(
                    "makes pictures (png, jpeg, ppm); {} holds the exact counts",
                    self.format
                ),
            ));
        }
        if let Pool::Processes { jobs, .. } | Pool::Threads { jobs } = &self.pool
            && jobs.get() > MAX_JOBS
        {
            return Err(Error::invalid(
                Field::Jobs,
                jobs,
                format!("is more than {MAX_JOBS} workers"),
            ));
        }
        let engine = Engine {
            pool: self.pool.clone(),
            kernel: self.kernel,
            shortcuts: self.shortcuts,
            deadline: self.deadline,
            cancel: self.cancel.clone().unwrap_or_default(),
            orbits: self.orbits.clone(),
        };
        engine.check_kernel()?;
        Ok(Plan {
            params,
            engine,
            style: self.style,
            format: self.format,
        })
    }
}

/// Most workers a pool may have.
const MAX_JOBS: usize = 4096;

/// How the text a picture carries begins, before the canonical text.
pub const PICTURE_PREFIX: &str = concat!("mandel ", env!("CARGO_PKG_VERSION"), " render ");

/// The parameters in a picture's text: after `mandel VERSION render ` (any version).
fn picture_text_params(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("mandel ")?;
    let (_version, rest) = rest.split_once(' ')?;
    rest.strip_prefix("render ")
}

/// The field a canonical key sets, if it is one.
fn key_field(key: &str) -> Option<Field> {
    KEYS.into_iter()
        .chain([Field::Format])
        .find(|f| f.name() == key)
}

fn whole(field: Field, s: &str) -> Result<u32> {
    s.parse()
        .map_err(|_| Error::invalid(field, s, "is not a whole number"))
}

fn finite(field: Field, s: &str) -> Result<f64> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(Error::invalid(field, s, "is not a finite number")),
    }
}

fn row_range(s: &str) -> Result<Range<u32>> {
    let bad = || Error::invalid(Field::Rows, s, "is not START..END (two whole numbers)");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    Ok(a.trim().parse().map_err(|_| bad())?..b.trim().parse().map_err(|_| bad())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Job> {
        Job::from_canonical(q)
    }

    #[test]
    fn the_canonical_text_reads_back_to_the_same_job() {
        for q in [
            "",
            "width=64&height=48&center=-0.75,0.1&zoom=3&colormap=magma&format=jpeg",
            "xmin=-1.5&xmax=0.5&ymin=-1&ymax=1&max_iter=77&format=npy&rows=3..9",
            "color=smooth&cycle=64&offset=0.25&inside=%23102030&supersample=2",
        ] {
            let job = parse(q).unwrap();
            let text = job.canonical().unwrap();
            let again = parse(&text).unwrap();
            assert_eq!(again.canonical().unwrap(), text, "{q}");
            assert_eq!(again.viewport().unwrap(), job.viewport().unwrap(), "{q}");
            assert_eq!(
                (again.style, again.format, again.rows),
                (job.style, job.format, job.rows),
                "{q}"
            );
        }
    }

    #[test]
    fn earlier_pictures_text_still_reads() {
        let old = "--width=480 --height=320 --max-iter=3000 --xmin=-0.7445 --xmax=-0.7427 \
                   --ymin=0.1312 --ymax=0.1324 --color=smooth --colormap=classic \
                   --offset=0.0 --supersample=3 --cycle=64.0";
        let job = parse(old).unwrap();
        assert_eq!((job.width, job.height, job.max_iter), (480, 320, 3000));
        assert_eq!(job.style.cycle, Some(64.0));
        assert_eq!(job.style.supersample, 3);
        assert_eq!(job.viewport().unwrap().bounds().xmin, -0.7445);
        assert_eq!(
            picture_text_params("mandel 0.0.9 render --width=3"),
            Some("--width=3")
        );
    }

    #[test]
    fn every_bad_value_is_named_by_its_field() {
        for (q, field) in [
            ("width=abc", "width"),
            ("width=0", "width"),
            ("height=-3", "height"),
            ("max_iter=0", "max_iter"),
            ("xmin=nan", "xmin"),
            ("xmin=1&xmax=0", "xmin"),
            ("center=1", "center"),
            ("center=0,0&xmin=-1", "xmin"),
            ("zoom=0", "zoom"),
            ("colormap=rainbow", "colormap"),
            ("color=loud", "color"),
            ("format=gif", "format"),
            ("inside=notacolor", "inside"),
            ("supersample=0", "supersample"),
            ("supersample=2&format=npy", "supersample"),
            ("cycle=0", "cycle"),
            ("offset=inf", "offset"),
            ("rows=5..5", "rows"),
            ("rows=0..401", "rows"),
            ("rows=x", "rows"),
            ("width=3&width=4", "width"),
            ("precision=fast", "precision"),
            ("zoom=-1e1000", "zoom"),
            ("zoom=1e99999&center=0,0", "zoom"),
            ("center=1e400,0", "center"),
            ("center=0,0x1", "center"),
            ("center=0,0&zoom=1e1000&precision=double", "zoom"),
            ("center=1,0&zoom=1e17&precision=double", "xmin"),
            ("reference=0;1", "reference"),
            ("reference=0,i", "reference"),
            ("center=0,1&zoom=1e40&reference=0.00001,1", "reference"),
        ] {
            let err = parse(q).and_then(|job| job.plan().map(|_| ())).unwrap_err();
            match &err {
                Error::Invalid { field: f, .. } => assert_eq!(f.name(), field, "{q}: {err}"),
                other => panic!("{q}: {other}"),
            }
            assert!(err.to_string().starts_with(field), "{q}: {err}");
        }
        // Within reach, a reference is kept, every digit, and reads back.
        let q = "center=0,1&zoom=1e40&reference=0.000000000000000000000000000000000000000001,1";
        let text = parse(q).unwrap().canonical().unwrap();
        let kept = format!("&reference={}%2C1&", &q[q.len() - 46..q.len() - 2]);
        assert!(text.contains(&kept), "{text}");
        assert_eq!(parse(&text).unwrap().canonical().unwrap(), text);
        let err = parse("widht=3").unwrap_err();
        assert!(
            matches!(&err, Error::UnknownParameter { name, .. } if name == "widht"),
            "{err}"
        );
    }

    #[test]
    fn samples_count_supersampling_and_rows_without_overflow() {
        let job = parse("width=300&height=200&rows=10..20&supersample=3&format=png").unwrap();
        assert_eq!(job.samples(), Some(300 * 10 * 9));
        let huge = Job {
            width: u32::MAX,
            height: u32::MAX,
            ..Job::default()
        };
        assert_eq!(
            huge.samples(),
            Some(u64::from(u32::MAX) * u64::from(u32::MAX))
        );
        let over = Job {
            style: Style {
                supersample: 16,
                ..Style::default()
            },
            ..huge
        };
        assert_eq!(over.samples(), None);
    }
}
