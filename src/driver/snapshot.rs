//! SnapVX: create_snapshot, delete_snapshot, create_volume_from_snapshot,
//! create_cloned_volume, and the link clean-up before delete.
//!
//! Invariants: a failed, timed-out or stopped clone or volume-from-snapshot
//! leaves nothing behind (its saga unlinks, deletes the target and
//! terminates the temporary snapshot); a snapshot resource owns exactly
//! the generation it made (found again by its timestamp), and a create
//! refuses a name the volume already has.

use super::naming::{Policy, truncate_middle};
use super::saga::{Saga, Undo};
use super::{Driver, DriverError, Op, Result, VolumeInfo};
use crate::unisphere::poll::{Pace, Step, poll};
use crate::unisphere::{SnapshotSrc, VolumeSnapshots};
use md5::{Digest, Md5};
use std::time::Duration;

/// One linked target of a snapshot generation.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkInfo {
    pub target: String,
    pub state: String,
    pub defined: bool,
    pub percent_copied: u32,
}

/// The newest generation of a named snapshot of one source volume.
#[derive(Debug, Clone)]
pub struct SnapInfo {
    pub source: String,
    pub name: String,
    pub generation: u32,
    pub generations: u32,
    pub timestamp: String,
    pub state: String,
    pub links: Vec<LinkInfo>,
}

/// Where a new volume's data comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Snapshot { device: String, name: String },
    Volume { device: String },
}

pub fn check_snapshot_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.len() > 32
        || name
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        Err(format!(
            "snapshot name {name:?} must be 1 to 32 characters of letters, digits, '_' and '-'"
        ))
    } else {
        Ok(())
    }
}

/// How long a delete waits for a volume's own snapshots to be terminated
/// by another resource of the same run before it refuses.
const USER_SNAPSHOT_GRACE: Duration = Duration::from_secs(60);

/// `temp-<source device>-<clone name cut to 10>-<8 hex of its md5>`: the
/// seed's clone snapshot name, plus a digest so that two clones whose
/// names cut to the same 10 characters never share a temporary snapshot.
pub fn temp_snapshot_name(source: &str, clone_name: &str) -> String {
    let safe: String = clone_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = hex::encode(Md5::digest(clone_name.as_bytes()));
    format!(
        "temp-{source}-{}-{}",
        truncate_middle(&safe, 10),
        &digest[..8]
    )
}

/// Parses a snapshot id `<device>:<name>`.
pub fn parse_snapshot_id(id: &str) -> Option<(String, String)> {
    let (d, n) = id.split_once(':')?;
    (d.len() == 5 && d.chars().all(|c| c.is_ascii_hexdigit()) && check_snapshot_name(n).is_ok())
        .then(|| (d.to_ascii_uppercase(), n.to_string()))
}

impl Driver {
    async fn snapshots_of(&self, dev: &str) -> Result<Option<VolumeSnapshots>> {
        Ok(self.api.volume_snapshots(dev).await?)
    }

    fn snap_info(dev: &str, name: &str, gens: &[&SnapshotSrc], g: &SnapshotSrc) -> SnapInfo {
        SnapInfo {
            source: dev.to_string(),
            name: name.to_string(),
            generation: g.generation,
            generations: gens.len() as u32,
            timestamp: g.timestamp.clone(),
            state: g.state.clone(),
            links: g
                .linked
                .iter()
                .map(|l| LinkInfo {
                    target: l.target.clone(),
                    state: l.state.clone(),
                    defined: l.defined,
                    percent_copied: l.percent_copied.round() as u32,
                })
                .collect(),
        }
    }

    /// A snapshot of `dev`: the generation taken at `timestamp` when one is
    /// given (the one a `vmax_snapshot` made), else the newest.
    pub async fn get_snapshot_at(
        &self,
        dev: &str,
        name: &str,
        timestamp: Option<&str>,
    ) -> Result<Option<SnapInfo>> {
        let Some(v) = self.snapshots_of(dev).await? else {
            return Ok(None);
        };
        let gens: Vec<&SnapshotSrc> = v.sources.iter().filter(|s| s.name == name).collect();
        let pick = match timestamp.filter(|t| !t.is_empty()) {
            Some(t) => gens.iter().find(|g| g.timestamp == t),
            None => gens.iter().min_by_key(|g| g.generation),
        };
        Ok(pick.map(|g| Self::snap_info(dev, name, &gens, g)))
    }

    pub async fn get_snapshot(&self, dev: &str, name: &str) -> Result<Option<SnapInfo>> {
        self.get_snapshot_at(dev, name, None).await
    }

    /// create_snapshot: a SnapVX snapshot `name` of `dev`; refused when the
    /// volume already has a snapshot of that name.
    pub async fn create_snapshot(&self, op: &Op, dev: &str, name: &str) -> Result<SnapInfo> {
        check_snapshot_name(name).map_err(|m| DriverError::invalid("name", m))?;
        let _g = self.locks.lock_many(&[Self::snap_lock(dev)]).await;
        op.check()?;
        // the volume's snapshot list: 404 when the volume does not exist
        let Some(list) = self.snapshots_of(dev).await? else {
            return Err(DriverError::invalid(
                "volume_id",
                format!(
                    "source volume {dev} does not exist on array {}",
                    self.settings.array
                ),
            ));
        };
        let key = format!("snapshot:{dev}:{name}");
        let gens: Vec<&SnapshotSrc> = list.sources.iter().filter(|s| s.name == name).collect();
        let existing = gens
            .iter()
            .min_by_key(|g| g.generation)
            .map(|g| Self::snap_info(dev, name, &gens, g));
        if let Some(s) = existing {
            if self.recover_snapshot(dev, name, &key).await? {
                tracing::warn!(
                    device = dev,
                    snapshot = name,
                    "taking back the snapshot an interrupted apply of this workspace took"
                );
                return Ok(s);
            }
            return Err(DriverError::Conflict(format!(
                "volume {dev} already has a SnapVX snapshot named {name} (taken {}), which is not in this Terraform state (another vmax_snapshot resource, or another tool, made it). This provider never takes over a snapshot it did not make: choose another name, or import it: terraform import vmax_snapshot.<name> {dev}:{name}",
                s.timestamp
            )));
        }
        let array = self.settings.array.clone();
        self.journal.begin(&array, &key);
        if let Err(e) = self.take_snapshot(dev, name, Some(&key)).await {
            if !matches!(&e, DriverError::Array(a) if a.is_ambiguous()) {
                self.journal.forget(&array, &key);
            }
            return Err(e);
        }
        self.get_snapshot(dev, name).await?.ok_or_else(|| {
            DriverError::Inconsistent(format!(
                "snapshot {name} of {dev} was created but cannot be read back"
            ))
        })
    }

    /// Takes snapshot `name` of `dev`, which the caller found absent under
    /// the source's lock: after a lost answer, a snapshot of that name is
    /// this call's.
    async fn take_snapshot(&self, dev: &str, name: &str, journal: Option<&str>) -> Result<()> {
        let array = self.settings.array.clone();
        let note = |job: &str| {
            if let Some(key) = journal {
                self.journal.job(&array, key, job);
            }
        };
        Ok(self
            .api
            .reconciled(
                "create snapshot",
                // a job (whose id the journal records) only when journaled
                || {
                    self.api.create_snapshot(
                        dev,
                        name,
                        journal.map(|_| &note as &(dyn Fn(&str) + Sync)),
                    )
                },
                || async {
                    Ok(self
                        .api
                        .volume_snapshots(dev)
                        .await?
                        .is_some_and(|v| v.sources.iter().any(|s| s.name == name)))
                },
            )
            .await?)
    }

    /// Whether this workspace's journal proves it took the (only)
    /// snapshot `name` of `dev` before a crash: its job succeeded, and the
    /// volume has exactly one generation of that name.
    async fn recover_snapshot(&self, dev: &str, name: &str, key: &str) -> Result<bool> {
        let array = &self.settings.array;
        let Some(job) = self.journal.interrupted(array, key).and_then(|e| e.job_id) else {
            return Ok(false);
        };
        let succeeded = self
            .settled_job(&job)
            .await?
            .is_some_and(|j| j.status == "SUCCEEDED");
        let gens = self
            .snapshots_of(dev)
            .await?
            .map(|v| v.sources.iter().filter(|s| s.name == name).count())
            .unwrap_or(0);
        let ok = succeeded && gens == 1;
        if ok {
            self.journal.claim(array, key);
        } else {
            self.journal.forget(array, key);
        }
        Ok(ok)
    }

    /// Waits until a link's copy is defined, within the operation's bounds.
    pub async fn wait_for_copy(&self, op: &Op, src: &str, name: &str, target: &str) -> Result<()> {
        self.wait_for_copy_read(op, src, name, target)
            .await
            .map(|_| ())
    }

    /// [`Driver::wait_for_copy`], returning the source's snapshots as last read.
    async fn wait_for_copy_read(
        &self,
        op: &Op,
        src: &str,
        name: &str,
        target: &str,
    ) -> Result<VolumeSnapshots> {
        let pace = Pace::new(Duration::from_millis(50), Duration::from_secs(3));
        let done = poll(pace, op.deadline(), || async {
            if op.is_cancelled() {
                op.check()?;
            }
            let v = self.snapshots_of(src).await?.unwrap_or_default();
            let link = v
                .sources
                .iter()
                .filter(|s| s.name == name)
                .flat_map(|s| s.linked.iter())
                .find(|l| l.target == target);
            let defined = link.is_none_or(|l| l.defined);
            Ok::<_, DriverError>(if defined {
                Step::Done(v)
            } else {
                Step::Wait(None)
            })
        })
        .await?;
        done.ok_or_else(|| op.timeout())
    }

    /// Unlinks `target` from whichever generation of `name` it is linked to.
    pub(crate) async fn unlink_if_linked(&self, src: &str, name: &str, target: &str) -> Result<()> {
        let Some(v) = self.snapshots_of(src).await? else {
            return Ok(());
        };
        for g in v.sources.iter().filter(|s| s.name == name) {
            if g.linked.iter().any(|l| l.target == target) {
                self.api.unlink(src, name, g.generation, target).await?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Terminates every generation of `name` on `src` that has no links
    /// (oldest first, so generation numbers stay valid while it runs). A
    /// terminate whose answer is lost is settled by reading again.
    pub(crate) async fn terminate_unlinked(&self, src: &str, name: &str) -> Result<()> {
        let mut last = None;
        for _round in 0..4 {
            let Some(v) = self.snapshots_of(src).await? else {
                return Ok(());
            };
            let mut gens: Vec<u32> = v
                .sources
                .iter()
                .filter(|s| s.name == name && s.linked.is_empty())
                .map(|s| s.generation)
                .collect();
            if gens.is_empty() {
                return Ok(());
            }
            gens.sort_unstable_by(|a, b| b.cmp(a));
            let mut lost = false;
            for g in gens {
                match self.api.terminate_snapshot(src, name, g).await {
                    Err(e) if e.is_ambiguous() => {
                        tracing::warn!(error = %e, "terminate answer lost; reading again");
                        last = Some(e);
                        lost = true;
                        break;
                    }
                    Err(e) if !e.is_not_found() => return Err(e.into()),
                    _ => {}
                }
            }
            if !lost {
                return Ok(());
            }
        }
        Err(last.map(DriverError::from).unwrap_or_else(|| {
            DriverError::Inconsistent(format!("snapshot {name} of {src} could not be terminated"))
        }))
    }

    /// delete_snapshot: unlinks the generation's targets once their copy is
    /// defined, then terminates it. `timestamp` picks the generation this
    /// resource made; without one, every generation of the name goes.
    /// Gone already = success.
    pub async fn delete_snapshot(
        &self,
        op: &Op,
        dev: &str,
        name: &str,
        timestamp: Option<&str>,
    ) -> Result<()> {
        let _g = self.locks.lock_many(&[Self::snap_lock(dev)]).await;
        let mut lost = 0;
        loop {
            let Some(s) = self.get_snapshot_at(dev, name, timestamp).await? else {
                return Ok(());
            };
            for l in &s.links {
                self.wait_for_copy(op, dev, name, &l.target).await?;
                op.check()?;
                self.api.unlink(dev, name, s.generation, &l.target).await?;
            }
            op.check()?;
            match self.api.terminate_snapshot(dev, name, s.generation).await {
                Err(e) if e.is_not_found() => return Ok(()),
                // outcome unknown: the loop reads the array again
                Err(e) if e.is_ambiguous() && lost < 4 => {
                    lost += 1;
                    tracing::warn!(error = %e, "terminate answer lost; checking the array");
                }
                Err(e) => return Err(e.into()),
                Ok(()) if timestamp.is_some() => return Ok(()),
                Ok(()) => {}
            }
        }
    }

    /// Breaks the SnapVX relations that would block deleting or changing
    /// `dev`: links to it (waiting for their copy), and temporary clone
    /// snapshots of it. With `refuse_user_snapshots`, user snapshots of it
    /// are refused before anything changes.
    pub async fn break_links(&self, op: &Op, dev: &str, refuse_user_snapshots: bool) -> Result<()> {
        let user_snaps = |v: &VolumeSnapshots| {
            let mut user: Vec<String> = v
                .sources
                .iter()
                .filter(|s| !s.name.starts_with("temp-"))
                .map(|s| s.name.clone())
                .collect();
            user.sort();
            user.dedup();
            user
        };
        let Some(mut v) = self.snapshots_of(dev).await? else {
            return Ok(());
        };
        if refuse_user_snapshots && !user_snaps(&v).is_empty() {
            // a snapshot resource destroyed in the same run (a group
            // snapshot the volume left, say) may be on its way out: wait
            // a little for it before refusing
            let deadline = op
                .deadline()
                .min(tokio::time::Instant::now() + USER_SNAPSHOT_GRACE);
            let pace = Pace::new(Duration::from_secs(1), Duration::from_secs(3));
            let gone = poll(pace, deadline, || async {
                let now = self.snapshots_of(dev).await?.unwrap_or_default();
                Ok::<_, DriverError>(if user_snaps(&now).is_empty() {
                    Step::Done(now)
                } else {
                    Step::Wait(None)
                })
            })
            .await?;
            match gone {
                Some(now) => v = now,
                None => {
                    return Err(DriverError::Conflict(format!(
                        "volume {dev} still has SnapVX snapshots ({}); delete those vmax_snapshot or vmax_volume_group_snapshot resources first",
                        user_snaps(&v).join(", ")
                    )));
                }
            }
        }
        for l in &v.links {
            let seen = self.wait_for_copy_read(op, &l.source, &l.name, dev).await?;
            op.check()?;
            let _g = self.locks.lock_many(&[Self::snap_lock(&l.source)]).await;
            // the generation linked to this volume, as the wait last saw it
            // (a link changes only under the source's lock, held now)
            let linked_gen = seen
                .sources
                .iter()
                .filter(|s| s.name == l.name)
                .find(|s| s.linked.iter().any(|x| x.target == dev));
            match linked_gen {
                Some(g) => {
                    self.api
                        .unlink(&l.source, &l.name, g.generation, dev)
                        .await?;
                    // a clone's temporary snapshot: its generation had only this link
                    if l.name.starts_with("temp-") {
                        if g.linked.len() == 1 {
                            match self
                                .api
                                .terminate_snapshot(&l.source, &l.name, g.generation)
                                .await
                            {
                                Err(e) if e.is_ambiguous() => {
                                    self.terminate_unlinked(&l.source, &l.name).await?
                                }
                                Err(e) if !e.is_not_found() => return Err(e.into()),
                                _ => {}
                            }
                        } else {
                            self.terminate_unlinked(&l.source, &l.name).await?;
                        }
                    }
                }
                None => {
                    self.unlink_if_linked(&l.source, &l.name, dev).await?;
                    if l.name.starts_with("temp-") {
                        self.terminate_unlinked(&l.source, &l.name).await?;
                    }
                }
            }
        }
        let temps: Vec<String> = v
            .sources
            .iter()
            .filter(|s| s.name.starts_with("temp-"))
            .map(|s| s.name.clone())
            .collect();
        for name in temps {
            op.check()?;
            self.delete_snapshot(op, dev, &name, None).await?;
        }
        Ok(())
    }

    /// create_volume_from_snapshot / create_cloned_volume: a new volume of
    /// `size_gb` (at least the source's) linked in copy mode. A saga: on
    /// error, timeout or stop, the link, the temporary snapshot and the new
    /// volume are undone.
    pub async fn create_volume_from_source(
        &self,
        op: &Op,
        name: &str,
        size_gb: i64,
        p: &Policy,
        source: &Source,
        wait: bool,
    ) -> Result<VolumeInfo> {
        // a user snapshot's list, read once: it must exist before a target
        // is made for it, and the link uses it unless this process changed
        // a snapshot since
        let mut known = None;
        let (src_dev, snap, temp) = match source {
            Source::Snapshot { device, name: s } => {
                let epoch = self.api.snapshot_epoch();
                let list = self.snapshots_of(device).await?;
                let exists = list
                    .as_ref()
                    .is_some_and(|l| l.sources.iter().any(|g| g.name == *s));
                known = Some((epoch, list));
                if !exists {
                    return Err(DriverError::invalid(
                        "source.snapshot_id",
                        format!(
                            "snapshot {s} of volume {device} does not exist; it cannot be the source of a new volume"
                        ),
                    ));
                }
                (device.clone(), s.clone(), false)
            }
            Source::Volume { device } => (device.clone(), temp_snapshot_name(device, name), true),
        };
        // the source's size from this command's bulk read when it is current
        let src: Option<crate::unisphere::Volume> = match self.api.current_bulk().await {
            Some(b) if b.contains_key(&src_dev) => b.get(&src_dev).cloned().map(Into::into),
            _ => self.api.volume(&src_dev).await?,
        };
        let src = src.ok_or_else(|| {
            DriverError::invalid(
                if temp {
                    "source.volume_id"
                } else {
                    "source.snapshot_id"
                },
                format!(
                    "source volume {src_dev} does not exist on array {}",
                    self.settings.array
                ),
            )
        })?;
        let src_gb = src.size_gb();
        if (size_gb as f64) < src_gb {
            return Err(DriverError::invalid(
                "size_gb",
                format!(
                    "size_gb {size_gb} is smaller than the source's {src_gb} GB; a copy must be at least as large as its source"
                ),
            ));
        }
        let mut saga = Saga::new();
        let r = self
            .copy_steps(
                op, &mut saga, name, size_gb, p, &src_dev, &snap, temp, wait, known,
            )
            .await;
        saga.finish(self, r).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn copy_steps(
        &self,
        op: &Op,
        saga: &mut Saga,
        name: &str,
        size_gb: i64,
        p: &Policy,
        src_dev: &str,
        snap: &str,
        temp: bool,
        wait: bool,
        known: Option<(u64, Option<VolumeSnapshots>)>,
    ) -> Result<VolumeInfo> {
        // the target is always a fresh volume: its identifier must be free
        let target = self.create_volume_step(op, saga, name, size_gb, p).await?;
        let tgt = target.device_id.clone();
        {
            let _g = self.locks.lock_many(&[Self::snap_lock(src_dev)]).await;
            op.check()?;
            // one read of the source's snapshots: a copy an interrupted
            // apply started for this same target is resumed; otherwise the
            // generation to link (the newest) and a stale temporary snapshot
            let list = match known {
                Some((epoch, list)) if epoch == self.api.snapshot_epoch() => list,
                _ => self.api.volume_snapshots(src_dev).await?,
            };
            let gens: Vec<&SnapshotSrc> = list
                .as_ref()
                .map(|v| v.sources.iter().filter(|s| s.name == snap).collect())
                .unwrap_or_default();
            let resumed = gens
                .iter()
                .any(|s| s.linked.iter().any(|l| l.target == tgt));
            if resumed {
                tracing::warn!(target = %tgt, snapshot = snap, "resuming the copy an interrupted apply started");
                if temp {
                    saga.did(Undo::TerminateTemp {
                        src: src_dev.into(),
                        name: snap.into(),
                    });
                }
            } else {
                let newest = gens
                    .iter()
                    .min_by_key(|g| g.generation)
                    .map(|g| Self::snap_info(src_dev, snap, &gens, g));
                let generation = if temp {
                    if let Some(old) = newest {
                        if !old.links.is_empty() {
                            return Err(DriverError::Conflict(format!(
                                "temporary snapshot {snap} of {src_dev} is in use by another copy (linked to {}); try again when it is done",
                                old.links
                                    .iter()
                                    .map(|l| l.target.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )));
                        }
                        // left by an interrupted clone whose target is gone
                        tracing::warn!(
                            snapshot = snap,
                            source = src_dev,
                            "removing a stale temporary snapshot"
                        );
                        self.terminate_unlinked(src_dev, snap).await?;
                    }
                    self.take_snapshot(src_dev, snap, None).await?;
                    saga.did(Undo::TerminateTemp {
                        src: src_dev.into(),
                        name: snap.into(),
                    });
                    // the only generation of a name just taken (under the lock)
                    0
                } else {
                    newest.map(|s| s.generation).unwrap_or(0)
                };
                op.check()?;
                self.api.link(src_dev, snap, generation, &tgt).await?;
            }
            saga.did(Undo::Unlink {
                src: src_dev.into(),
                name: snap.into(),
                target: tgt.clone(),
            });
        }
        if wait {
            self.wait_for_copy(op, src_dev, snap, &tgt).await?;
            op.check()?;
            let _g = self.locks.lock_many(&[Self::snap_lock(src_dev)]).await;
            self.unlink_if_linked(src_dev, snap, &tgt).await?;
            saga.forget(&Undo::Unlink {
                src: src_dev.into(),
                name: snap.into(),
                target: tgt.clone(),
            });
            if temp {
                self.terminate_unlinked(src_dev, snap).await?;
                saga.forget(&Undo::TerminateTemp {
                    src: src_dev.into(),
                    name: snap.into(),
                });
            }
        }
        // the target as created, now a SnapVX target while still linked
        let mut target = target;
        target.snapvx_target = !wait;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        let t = temp_snapshot_name("0001A", "clone-of-db");
        assert!(t.starts_with("temp-0001A-cloneof-db-"), "{t}");
        assert_ne!(
            temp_snapshot_name("0001A", "database-x-clone-1"),
            temp_snapshot_name("0001A", "database-y-clone-1"),
            "names that cut alike still differ"
        );
        assert!(temp_snapshot_name("0001A", "a very long clone name").len() <= 32);
        assert_eq!(
            parse_snapshot_id("0001a:nightly"),
            Some(("0001A".into(), "nightly".into()))
        );
        assert_eq!(parse_snapshot_id("0001A"), None);
        assert!(check_snapshot_name(&"x".repeat(33)).is_err());
        assert!(check_snapshot_name("bad name").is_err());
    }
}
