//! What a driver operation can fail with, and the bounds it runs within.
//!
//! `DriverError` variants say what kind of failure it was, so the provider
//! maps them to diagnostics (and attribute paths) without reading a
//! message. `Op` carries an operation's deadline and Terraform's stop
//! signal into the driver, which checks them between steps: a step in
//! flight always finishes, and an operation that stops early runs its
//! compensations (see `saga.rs`).

use crate::unisphere::Error as ApiError;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A driver failure a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The object the operation needs does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The object exists but is not this provider's (or not this
    /// resource's): nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// Bad input; `attr` names the attribute (`size_gb`, `source.volume_id`).
    #[error("{message}")]
    Invalid {
        attr: Option<&'static str>,
        message: String,
    },
    /// The operation's deadline passed between two steps.
    #[error(
        "{what} did not finish within {secs} s (see the timeouts block); what it had done was undone"
    )]
    Timeout { what: String, secs: u64 },
    /// Terraform asked the provider to stop between two steps.
    #[error("{what} was interrupted because Terraform is stopping; what it had done was undone")]
    Cancelled { what: String },
    /// The array refused or failed a call.
    #[error("{0}")]
    Array(#[from] ApiError),
    /// The array disagrees with itself or with what the operation just did.
    #[error("{0}")]
    Inconsistent(String),
    /// The operation failed and its undo could not remove a volume it
    /// made: the volume exists and belongs in state.
    #[error("{error} (volume {device} could not be removed afterwards: {undo_error})")]
    Leftover {
        error: Box<DriverError>,
        device: String,
        undo_error: String,
    },
}

impl DriverError {
    pub fn invalid(attr: &'static str, message: impl Into<String>) -> Self {
        DriverError::Invalid {
            attr: Some(attr),
            message: message.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        match self {
            DriverError::NotFound(_) => true,
            DriverError::Array(e) => e.is_not_found(),
            _ => false,
        }
    }

    /// The attribute the error is about, as a dotted path.
    pub fn attribute(&self) -> Option<&'static str> {
        match self {
            DriverError::Invalid { attr, .. } => *attr,
            DriverError::Leftover { error, .. } => error.attribute(),
            _ => None,
        }
    }

    /// A device left behind by a failed create, to be recorded in state.
    pub fn leftover_device(&self) -> Option<&str> {
        match self {
            DriverError::Leftover { device, .. } => Some(device),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, DriverError>;

/// The bounds of one operation: its deadline and Terraform's stop signal.
#[derive(Clone, Debug)]
pub struct Op {
    what: String,
    limit: Duration,
    deadline: Instant,
    cancel: CancellationToken,
}

impl Op {
    pub fn new(what: impl Into<String>, limit: Duration, cancel: CancellationToken) -> Self {
        Op {
            what: what.into(),
            limit,
            deadline: Instant::now() + limit,
            cancel,
        }
    }

    /// No deadline and no stop signal (reads, imports, tests).
    pub fn unbounded(what: impl Into<String>) -> Self {
        Op::new(
            what,
            Duration::from_secs(365 * 24 * 3600),
            CancellationToken::new(),
        )
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Between two steps: may the operation go on?
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(DriverError::Cancelled {
                what: self.what.clone(),
            });
        }
        if Instant::now() >= self.deadline {
            return Err(self.timeout());
        }
        Ok(())
    }

    pub fn timeout(&self) -> DriverError {
        DriverError::Timeout {
            what: self.what.clone(),
            secs: self.limit.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn checks_deadline_and_stop() {
        let c = CancellationToken::new();
        let op = Op::new("creating x", Duration::from_secs(3), c.clone());
        assert!(op.check().is_ok());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(matches!(
            op.check(),
            Err(DriverError::Timeout { secs: 3, .. })
        ));
        let op = Op::new("creating x", Duration::from_secs(30), c.clone());
        c.cancel();
        let e = op.check().unwrap_err();
        assert!(matches!(e, DriverError::Cancelled { .. }));
        assert!(e.to_string().contains("Terraform is stopping"));
    }
}
