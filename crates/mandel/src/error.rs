//! The library's one error type, and the names of the parameters it can blame.

use std::fmt::{self, Display};
use std::path::PathBuf;

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a render.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of range or unreadable; `field` names it, `value` is what was given.
    /// The message reads `{field} = {value} {reason}` in the library's own vocabulary (the
    /// canonical text form's keys, [`Field::name`]); front ends respell the field their way.
    #[error("{} = {value} {reason}", field.name())]
    Invalid {
        /// The parameter.
        field: Field,
        /// Its value, as given.
        value: String,
        /// Why it cannot be used: the end of a sentence that begins with the field and value.
        reason: String,
    },
    /// A parameter name that no job has (in a query or a canonical text).
    #[error("{name} = {value} is not a parameter of a render")]
    UnknownParameter {
        /// The name, as given.
        name: String,
        /// Its value, as given.
        value: String,
    },
    /// The request is valid but too large for this machine.
    #[error("{what} needs {bytes} bytes, more than this machine's memory ({limit} bytes)")]
    TooLarge {
        /// What would have been allocated.
        what: String,
        /// How many bytes it needs.
        bytes: u64,
        /// How many bytes this machine has.
        limit: u64,
    },
    /// Reading or writing a file failed.
    // The message of `err` is part of this one, so it is not also a `#[source]`: error
    // chains would print it twice.
    #[error("{}: {}", path.display(), describe_io(err))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        err: std::io::Error,
    },
    /// Writing encoded output failed part way.
    #[error("writing output: {}", describe_io(.0))]
    Write(std::io::Error),
    /// A worker process failed, or the pool gave up on its workers.
    #[error("{0}")]
    Worker(String),
    /// The render was still running at its deadline ([`crate::Job::deadline`]).
    #[error("the render passed its deadline")]
    DeadlineExceeded,
    /// The render was stopped through its [`crate::Cancel`] handle.
    #[error("the render was cancelled")]
    Cancelled,
    /// Encoding an image failed for a reason other than I/O.
    #[error("encoding {format}: {message}")]
    Encode {
        /// The format being written.
        format: &'static str,
        /// The encoder's message.
        message: String,
    },
}

impl Error {
    /// An [`Error::Invalid`] for `field`.
    pub fn invalid(field: Field, value: impl Display, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err,
        }
    }

    /// Whether the error is the caller's fault (bad input) rather than the machine's.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Invalid { .. }
                | Error::UnknownParameter { .. }
                | Error::TooLarge { .. }
                | Error::Io { .. }
        )
    }
}

impl From<mandel_kernel::InvalidValue> for Error {
    fn from(e: mandel_kernel::InvalidValue) -> Self {
        let field = Field::ALL
            .into_iter()
            .find(|f| f.name() == e.name)
            .unwrap_or(Field::View);
        Error::Invalid {
            field,
            value: e.value,
            reason: e.reason,
        }
    }
}

/// The parameters of a [`crate::Job`] an error can name. [`Field::name`] is the library's
/// vocabulary: the keys of the canonical text form and of the server's query string. The
/// command line spells them as options (`max_iter` is `--max-iter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// Pixels per row.
    Width,
    /// Rows.
    Height,
    /// The iteration limit.
    MaxIter,
    /// The view's left edge.
    Xmin,
    /// The view's right edge.
    Xmax,
    /// The view's bottom edge.
    Ymin,
    /// The view's top edge.
    Ymax,
    /// The view's centre.
    Center,
    /// The view's magnification.
    Zoom,
    /// The point whose orbit deep pixels are perturbed about (the centre by default).
    Reference,
    /// The arithmetic: doubles, perturbation or direct.
    Precision,
    /// The view as a whole (a combination of its parameters).
    View,
    /// The rows to render.
    Rows,
    /// How values map onto the colormap.
    Color,
    /// The colormap.
    Colormap,
    /// The colormap's period.
    Cycle,
    /// The colormap's shift.
    Offset,
    /// The colour of the set.
    Inside,
    /// Samples per pixel along each axis.
    Supersample,
    /// The output format.
    Format,
    /// The output file.
    Output,
    /// The escape-time kernel.
    Kernel,
    /// Workers in the pool.
    Jobs,
    /// A file of parameters to render again.
    From,
    /// Which of a job's shards to render (`I/N`).
    Shard,
    /// A shard file given to a merge.
    Part,
    /// Whether the output is streamed.
    Streaming,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 27] = [
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
        Field::View,
        Field::Rows,
        Field::Color,
        Field::Colormap,
        Field::Cycle,
        Field::Offset,
        Field::Inside,
        Field::Supersample,
        Field::Format,
        Field::Output,
        Field::Kernel,
        Field::Jobs,
        Field::From,
        Field::Shard,
        Field::Part,
        Field::Streaming,
    ];

    /// The field's name in the library's vocabulary (snake case: `max_iter`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Width => "width",
            Field::Height => "height",
            Field::MaxIter => "max_iter",
            Field::Xmin => "xmin",
            Field::Xmax => "xmax",
            Field::Ymin => "ymin",
            Field::Ymax => "ymax",
            Field::Center => "center",
            Field::Zoom => "zoom",
            Field::Reference => "reference",
            Field::Precision => "precision",
            Field::View => "view",
            Field::Rows => "rows",
            Field::Color => "color",
            Field::Colormap => "colormap",
            Field::Cycle => "cycle",
            Field::Offset => "offset",
            Field::Inside => "inside",
            Field::Supersample => "supersample",
            Field::Format => "format",
            Field::Output => "output",
            Field::Kernel => "kernel",
            Field::Jobs => "jobs",
            Field::From => "from",
            Field::Shard => "shard",
            Field::Part => "part",
            Field::Streaming => "stream",
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The OS's words for an I/O error, without the temporary path some wrappers append.
fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or folder".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        NotADirectory => "a component of the path is not a folder".into(),
        ReadOnlyFilesystem => "read-only file system".into(),
        StorageFull => "no space left on device".into(),
        _ => e.to_string(),
    }
}
