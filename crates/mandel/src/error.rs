//! The library's one error type.

use std::fmt::Display;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter a caller supplied is out of range; the message names it and its value.
    #[error("{name} = {value} {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// The request is valid but too large for this machine.
    #[error("{what} needs {bytes} bytes, more than this machine's memory ({limit} bytes)")]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
    },
    /// Reading or writing a file failed.
    // The message of `err` is part of this one, so it is not also a `#[source]`: error
    // chains would print it twice.
    #[error("{}: {}", path.display(), describe_io(err))]
    Io { path: PathBuf, err: std::io::Error },
    /// Writing encoded output failed part way.
    #[error("writing output: {}", describe_io(.0))]
    Write(std::io::Error),
    /// A worker process failed, or the pool gave up on its workers.
    #[error("{0}")]
    Worker(String),
    /// The render was still running at its [`Engine`](crate::Engine) deadline.
    #[error("the render passed its deadline")]
    DeadlineExceeded,
    /// Encoding an image failed for a reason other than I/O.
    #[error("encoding {format}: {message}")]
    Encode {
        format: &'static str,
        message: String,
    },
}

impl Error {
    pub fn invalid(name: &'static str, value: impl Display, reason: impl Into<String>) -> Self {
        Error::Invalid {
            name,
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
            Error::Invalid { .. } | Error::TooLarge { .. } | Error::Io { .. }
        )
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
