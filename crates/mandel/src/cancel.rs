//! Stopping a job from outside: a handle that another thread raises.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A handle that stops a running job from another thread (a server whose client has gone):
/// set it as [`crate::Job::cancel`], keep a clone, and call [`Cancel::cancel`]. The job then
/// ends with [`crate::Error::Cancelled`] within a fraction of a millisecond per thread, its
/// output incomplete. Clones share one flag, and a raised flag stays raised: use a new handle
/// for each job. (A job's deadline, once passed, raises its handle too.)
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A handle not yet raised.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the job was asked to stop (or passed its deadline).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.0
    }
}

impl PartialEq for Cancel {
    /// The same handle (clones of one another).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}
