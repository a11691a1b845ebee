//! Operations as sagas: every change an operation makes is recorded with
//! the change that undoes it, and an operation that fails, times out or is
//! stopped by Terraform runs those undos in reverse order before it
//! returns. Nothing half-made is left behind, and nothing is dropped in the
//! middle of a step: the provider never wraps a driver future in a timeout.
//!
//! Rules the undos follow:
//! - An operation releases its locks before it compensates; each undo takes
//!   the locks of the objects it touches, re-reads them, and acts only if
//!   they are still as the operation left them (an empty group, a view
//!   whose group holds no volumes, a host in no view). So an undo never
//!   removes what a parallel operation has started to use.
//! - Undos are bounded by the job timeout, not by the operation's deadline
//!   (which has usually passed when they run), and ignore Terraform's stop.
//! - When an undo fails, the others still run; a volume the operation made
//!   that cannot be removed is reported as [`DriverError::Leftover`], so
//!   the provider records it in state instead of orphaning it.

use super::{Driver, DriverError, Op, Policy, Result};

/// One change made by an operation, described by how to undo it.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// A volume the operation made: take it out of its groups and delete it.
    DeleteVolume { dev: String },
    /// A temporary snapshot the operation made: terminate its unlinked generations.
    TerminateTemp { src: String, name: String },
    /// A link the operation made.
    Unlink {
        src: String,
        name: String,
        target: String,
    },
    /// A volume the operation moved from `to` into `from`; `to` is made
    /// again with `policy` if a parallel operation removed it meanwhile.
    MoveBack {
        dev: String,
        from: String,
        to: String,
        policy: Option<Policy>,
    },
    /// A volume the operation added to `sg`.
    RemoveFromGroup { dev: String, sg: String },
    /// A child group the operation nested in `parent`.
    Unnest { parent: String, child: String },
    /// A storage group the operation made (deleted only while empty).
    DeleteGroup { sg: String },
    /// A masking view the operation made (deleted only while its group is empty).
    DeleteView { mv: String },
    /// An initiator group the operation made (deleted only while in no view).
    DeleteHost { host: String },
}

/// The undo log of one operation.
#[derive(Debug, Default)]
pub struct Saga {
    done: Vec<Undo>,
}

impl Saga {
    pub fn new() -> Self {
        Saga::default()
    }

    /// Records a change that succeeded.
    pub fn did(&mut self, u: Undo) {
        self.done.push(u);
    }

    /// Forgets a change the operation has undone itself (e.g. an unlink
    /// after the copy completed).
    pub fn forget(&mut self, u: &Undo) {
        self.done.retain(|x| x != u);
    }

    pub fn steps(&self) -> &[Undo] {
        &self.done
    }

    /// Ends the operation: on error, compensates (newest change first) and
    /// returns the error, turned into `Leftover` when a volume it made
    /// could not be removed.
    pub async fn finish<T>(self, d: &Driver, r: Result<T>) -> Result<T> {
        let e = match r {
            Ok(t) => return Ok(t),
            Err(e) => e,
        };
        tracing::warn!(error = %e, steps = self.done.len(), "operation failed; undoing its changes");
        let mut leftover = None;
        for u in self.done.into_iter().rev() {
            if let Err(ue) = d.compensate(&u).await {
                tracing::error!(undo = ?u, error = %ue, "could not undo a step");
                if let Undo::DeleteVolume { dev } = &u {
                    leftover = Some((dev.clone(), ue.to_string()));
                }
            }
        }
        match leftover {
            Some((device, undo_error)) => Err(DriverError::Leftover {
                error: Box::new(e),
                device,
                undo_error,
            }),
            None => Err(e),
        }
    }
}

impl Driver {
    /// Runs one undo under the locks of what it touches.
    pub(crate) async fn compensate(&self, u: &Undo) -> Result<()> {
        let op = Op::unbounded("undo");
        match u {
            Undo::DeleteVolume { dev } => self.delete_volume(&op, dev).await,
            Undo::TerminateTemp { src, name } => {
                let _g = self.locks.lock_many(&[Self::snap_lock(src)]).await;
                self.terminate_unlinked(src, name).await
            }
            Undo::Unlink { src, name, target } => {
                let _g = self.locks.lock_many(&[Self::snap_lock(src)]).await;
                self.unlink_if_linked(src, name, target).await
            }
            Undo::MoveBack {
                dev,
                from,
                to,
                policy,
            } => {
                let _g = self
                    .locks
                    .lock_many(&[Self::vol_lock(dev), Self::sg_lock(from), Self::sg_lock(to)])
                    .await;
                let Some(v) = self.api.volume(dev).await? else {
                    return Ok(());
                };
                if v.storage_groups.iter().any(|g| g == from) {
                    self.ensure_group(to, policy.as_ref()).await?;
                    self.move_volume(dev, from, to).await?;
                }
                Ok(())
            }
            Undo::RemoveFromGroup { dev, sg } => {
                let _g = self
                    .locks
                    .lock_many(&[Self::vol_lock(dev), Self::sg_lock(sg)])
                    .await;
                if let Some(v) = self.api.volume(dev).await?
                    && v.storage_groups.iter().any(|g| g == sg)
                {
                    self.api.remove_volumes(sg, &[dev]).await?;
                }
                Ok(())
            }
            Undo::Unnest { parent, child } => {
                let _g = self
                    .locks
                    .lock_many(&[Self::sg_lock(parent), Self::sg_lock(child)])
                    .await;
                if let Some(c) = self.api.storage_group(child).await?
                    && c.num_of_vols == 0
                    && c.parent_storage_group.iter().any(|p| p == parent)
                {
                    self.api.remove_child(parent, child).await?;
                }
                Ok(())
            }
            Undo::DeleteGroup { sg } => {
                let _g = self.locks.lock_many(&[Self::sg_lock(sg)]).await;
                self.delete_group_if_unused(sg).await
            }
            Undo::DeleteView { mv } => {
                let Some(view) = self.api.masking_view(mv).await? else {
                    return Ok(());
                };
                let _g = self
                    .locks
                    .lock_many(&[Self::mv_lock(mv), Self::sg_lock(&view.storage_group)])
                    .await;
                if let Some(g) = self.api.storage_group(&view.storage_group).await?
                    && g.num_of_vols == 0
                {
                    not_found_ok(self.api.delete_masking_view(mv).await)?;
                }
                Ok(())
            }
            Undo::DeleteHost { host } => {
                let _g = self.locks.lock_many(&[Self::host_lock(host)]).await;
                if let Some(h) = self.api.host(host).await?
                    && h.num_of_masking_views == 0
                    && h.maskingview.is_empty()
                {
                    not_found_ok(self.api.delete_host(host).await)?;
                }
                Ok(())
            }
        }
    }
}

/// A 404 on a delete means it is gone already.
pub(crate) fn not_found_ok(r: std::result::Result<(), crate::unisphere::Error>) -> Result<()> {
    match r {
        Err(e) if !e.is_not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_drops_only_that_step() {
        let mut s = Saga::new();
        let link = Undo::Unlink {
            src: "00100".into(),
            name: "n".into(),
            target: "00101".into(),
        };
        s.did(Undo::DeleteVolume {
            dev: "00101".into(),
        });
        s.did(link.clone());
        s.forget(&link);
        assert_eq!(
            s.steps(),
            &[Undo::DeleteVolume {
                dev: "00101".into()
            }]
        );
    }
}
