//! Generic volume groups (the seed's create_group / update_group /
//! delete_group) and their consistent snapshots (create_group_snapshot /
//! delete_group_snapshot).
//!
//! A group is a storage group without a service level, `OS-<name>-VG`,
//! holding the member volumes besides their policy groups (the array lets
//! a volume sit in any number of groups without a service level). It never
//! owns its members: deleting it leaves them. A group snapshot is one
//! SnapVX snapshot of the storage group, taken by the array at one point
//! in time across every member; each member then has a snapshot of that
//! name, which `vmax_volume.source.snapshot_id` (`<device>:<name>`) can copy.

use super::naming::{self, MANAGED_PREFIX};
use super::saga::{Saga, Undo, not_found_ok};
use super::{Driver, DriverError, Op, Result};

/// `OS-<name>-VG`.
pub fn group_storage_group(name: &str) -> String {
    format!("{MANAGED_PREFIX}{name}-VG")
}

/// A group name usable in `OS-<name>-VG`.
pub fn check_group_name(name: &str) -> std::result::Result<(), String> {
    naming::check_object_name("volume group", &group_storage_group(name))
        .map_err(|_| format!("volume group name {name:?} must be 1 to 58 letters, digits, '_' and '-' (the storage group is OS-<name>-VG, at most 64)"))
}

/// What the array says about one group snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSnapshot {
    pub name: String,
    pub timestamp: String,
    /// The member volumes the snapshot covers, sorted.
    pub members: Vec<String>,
}

impl Driver {
    /// The member volumes of a group (its storage group's own volumes).
    pub async fn volume_group_members(&self, name: &str) -> Result<Option<Vec<String>>> {
        let sg = group_storage_group(name);
        if self.api.storage_group(&sg).await?.is_none() {
            return Ok(None);
        }
        let mut devs = self.api.volumes_in_group(&sg).await?;
        devs.sort();
        Ok(Some(devs))
    }

    /// create_group: the storage group and its members. Refused when the
    /// storage group exists already (import it instead).
    pub async fn create_volume_group(
        &self,
        op: &Op,
        name: &str,
        devs: &[String],
    ) -> Result<Vec<String>> {
        check_group_name(name).map_err(|m| DriverError::invalid("name", m))?;
        let sg = group_storage_group(name);
        let mut saga = Saga::new();
        let r = async {
            let _g = self.locks.lock_many(&[Self::sg_lock(&sg)]).await;
            if self.api.storage_group(&sg).await?.is_some() {
                return Err(DriverError::Conflict(format!(
                    "storage group {sg} exists already on array {}; this provider never takes over a group it did not make: import it (terraform import vmax_volume_group.<name> {name}) or choose another name",
                    self.settings.array
                )));
            }
            op.check()?;
            self.api.create_storage_group(&sg, "None", None).await?;
            saga.did(Undo::DeleteGroup { sg: sg.clone() });
            self.add_members(op, &mut saga, &sg, devs).await?;
            Ok(())
        }
        .await;
        saga.finish(self, r).await?;
        Ok(self.volume_group_members(name).await?.unwrap_or_default())
    }

    async fn add_members(&self, op: &Op, saga: &mut Saga, sg: &str, devs: &[String]) -> Result<()> {
        for d in devs {
            op.check()?;
            if self.api.volume(d).await?.is_none() {
                return Err(DriverError::invalid(
                    "volume_ids",
                    format!("volume {d} does not exist on array {}", self.settings.array),
                ));
            }
            self.api.add_volumes(sg, &[d]).await?;
            saga.did(Undo::RemoveFromGroup {
                dev: d.clone(),
                sg: sg.to_string(),
            });
        }
        Ok(())
    }

    /// update_group: adds and removes members in place.
    pub async fn update_volume_group(
        &self,
        op: &Op,
        name: &str,
        want: &[String],
    ) -> Result<Vec<String>> {
        let sg = group_storage_group(name);
        let have = self
            .volume_group_members(name)
            .await?
            .ok_or_else(|| DriverError::NotFound(format!("storage group {sg} no longer exists")))?;
        let add: Vec<String> = want.iter().filter(|d| !have.contains(d)).cloned().collect();
        let remove: Vec<String> = have.iter().filter(|d| !want.contains(d)).cloned().collect();
        let mut saga = Saga::new();
        let r = async {
            let _g = self.locks.lock_many(&[Self::sg_lock(&sg)]).await;
            self.add_members(op, &mut saga, &sg, &add).await?;
            for d in &remove {
                op.check()?;
                self.api.remove_volumes(&sg, &[d]).await?;
            }
            Ok(())
        }
        .await;
        saga.finish(self, r).await?;
        Ok(self.volume_group_members(name).await?.unwrap_or_default())
    }

    /// delete_group: the members leave (they are never deleted), then the
    /// storage group goes. Gone already = success.
    pub async fn delete_volume_group(&self, op: &Op, name: &str) -> Result<()> {
        let sg = group_storage_group(name);
        let _g = self.locks.lock_many(&[Self::sg_lock(&sg)]).await;
        let Some(members) = self.volume_group_members(name).await? else {
            return Ok(());
        };
        for d in &members {
            op.check()?;
            self.api.remove_volumes(&sg, &[d]).await?;
        }
        not_found_ok(self.api.delete_storage_group(&sg).await)
    }

    /// create_group_snapshot: one consistent SnapVX snapshot of every
    /// member. Refused when a member already has a snapshot of that name.
    pub async fn create_group_snapshot(
        &self,
        op: &Op,
        group: &str,
        name: &str,
    ) -> Result<GroupSnapshot> {
        super::snapshot::check_snapshot_name(name).map_err(|m| DriverError::invalid("name", m))?;
        let sg = group_storage_group(group);
        let members = self.volume_group_members(group).await?.ok_or_else(|| {
            DriverError::invalid(
                "group_id",
                format!("volume group {group} ({sg}) does not exist"),
            )
        })?;
        if members.is_empty() {
            return Err(DriverError::invalid(
                "group_id",
                format!("volume group {group} has no volumes; a group snapshot needs at least one"),
            ));
        }
        let mut locks: Vec<String> = members.iter().map(|d| Self::snap_lock(d)).collect();
        locks.push(Self::sg_lock(&sg));
        let _g = self.locks.lock_many(&locks).await;
        op.check()?;
        for d in &members {
            if let Some(s) = self.get_snapshot(d, name).await? {
                return Err(DriverError::Conflict(format!(
                    "member {d} of volume group {group} already has a SnapVX snapshot named {name} (taken {}); choose another name, or import it: terraform import vmax_volume_group_snapshot.<name> {group}:{name}",
                    s.timestamp
                )));
            }
        }
        self.api
            .reconciled(
                "create group snapshot",
                || self.api.create_sg_snapshot(&sg, name),
                || async {
                    Ok(self
                        .api
                        .volume_snapshots(&members[0])
                        .await?
                        .is_some_and(|v| v.sources.iter().any(|s| s.name == name)))
                },
            )
            .await?;
        self.get_group_snapshot(group, name, &members)
            .await?
            .ok_or_else(|| {
                DriverError::Inconsistent(format!(
                    "snapshot {name} of group {group} was taken but cannot be read back"
                ))
            })
    }

    /// A group snapshot: the newest generation of `name` on each of `of`
    /// (the members it covered); `None` when no member has it any more.
    pub async fn get_group_snapshot(
        &self,
        group: &str,
        name: &str,
        of: &[String],
    ) -> Result<Option<GroupSnapshot>> {
        let _ = group;
        let mut members = Vec::new();
        let mut timestamp = String::new();
        for d in of {
            if let Some(s) = self.get_snapshot(d, name).await? {
                if timestamp.is_empty() {
                    timestamp = s.timestamp.clone();
                }
                members.push(d.clone());
            }
        }
        members.sort();
        Ok((!members.is_empty()).then(|| GroupSnapshot {
            name: name.to_string(),
            timestamp,
            members,
        }))
    }

    /// delete_group_snapshot: each member's snapshot goes as a
    /// `vmax_snapshot` would (copies of it unlinked once defined).
    pub async fn delete_group_snapshot(
        &self,
        op: &Op,
        name: &str,
        members: &[String],
    ) -> Result<()> {
        for d in members {
            self.delete_snapshot(op, d, name, None).await?;
        }
        Ok(())
    }
}
