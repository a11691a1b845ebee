//! `vmax_volume_group` and `vmax_volume_group_snapshot`: generic volume
//! groups and their consistent snapshots.

use super::volume::{Timeouts, timeouts_block, validate_timeouts};
use super::{Shared, op, report};
use crate::driver::group::{check_group_name, group_storage_group};
use crate::driver::snapshot::check_snapshot_name;
use crate::tfplugin::{AttrPath, Attribute, Block, Ctx, Diags, Resource, Schema, Ty, Value};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::tfplugin::{read_state as decode, write_state as encode};

/// A configured timeout, else `default`.
fn limit(
    t: &Option<Timeouts>,
    pick: fn(&Timeouts) -> &Option<String>,
    default: std::time::Duration,
) -> std::time::Duration {
    super::volume::duration_or(t.as_ref().and_then(|t| pick(t).as_deref()), default)
}

fn check_devices(config: &Value, attr: &str, diags: &mut Diags) {
    if let Value::Set(items) | Value::List(items) = config.get(attr) {
        for v in items {
            if let Some(d) = v.as_str()
                && !(d.len() == 5 && d.chars().all(|c| c.is_ascii_hexdigit()))
            {
                diags.error_at(
                    AttrPath::attr(attr),
                    "Invalid volume id",
                    format!("{d:?} is not a device id of five hex digits, e.g. vmax_volume.x.id"),
                );
            }
        }
    }
}

// ---- vmax_volume_group ------------------------------------------------------------

pub struct VolumeGroupResource {
    shared: Arc<Shared>,
    ty: Ty,
}

impl VolumeGroupResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        VolumeGroupResource {
            shared,
            ty: group_schema().block.ty(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct GroupState {
    pub id: Option<String>,
    pub name: String,
    pub volume_ids: Vec<String>,
    pub storage_group: Option<String>,
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
}

pub fn group_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "A generic volume group: a storage group without a service level, `OS-<name>-VG`, holding the member volumes besides their own policy groups. Membership changes in place; destroying the group leaves its volumes. Snapshots of the whole group at one point in time are `vmax_volume_group_snapshot`.".into(),
            attributes: vec![
                Attribute::computed("id", Ty::String, "The group's name.").keep_state(),
                Attribute::required("name", Ty::String, "Group name; the storage group is `OS-<name>-VG` (at most 64 characters). A storage group of that name already on the array is refused (import it instead).").force_new(),
                Attribute::required("volume_ids", Ty::set(Ty::String), "Device ids of the member volumes. Adding and removing members is in place; members exported to hosts stay exported."),
                Attribute::computed("storage_group", Ty::String, "The storage group, `OS-<name>-VG`.").keep_state(),
            ],
            blocks: vec![timeouts_block(&[
                ("create", "Default: the provider's `job_timeout`."),
                ("update", "Default: the provider's `job_timeout`."),
                ("delete", "Default: the provider's `job_timeout`."),
            ])],
        },
    }
}

#[async_trait]
impl Resource for VolumeGroupResource {
    fn type_name(&self) -> &'static str {
        "vmax_volume_group"
    }

    fn schema(&self) -> Schema {
        group_schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(n) = config.get("name").as_str()
            && let Err(e) = check_group_name(n)
        {
            diags.error_at(AttrPath::attr("name"), "Invalid group name", e);
        }
        check_devices(config, "volume_ids", diags);
        validate_timeouts(config, diags);
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s: GroupState = decode(planned, "vmax_volume_group", diags)?;
        let op = op(
            ctx,
            format!("creating volume group {}", s.name),
            limit(&s.timeouts, |t| &t.create, d.job_timeout()),
        );
        match d.create_volume_group(&op, &s.name, &s.volume_ids).await {
            Ok(members) => {
                s.id = Some(s.name.clone());
                s.volume_ids = members;
                s.storage_group = Some(group_storage_group(&s.name));
                Some(encode(&s, &self.ty, "vmax_volume_group", diags))
            }
            Err(e) => {
                report(diags, "Cannot create volume group", &e);
                None
            }
        }
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value, diags: &mut Diags) -> Value {
        let Some(d) = self.shared.driver(diags) else {
            return prior.clone();
        };
        let (Some(mut s), Some(new)) = (
            decode::<GroupState>(prior, "vmax_volume_group", diags),
            decode::<GroupState>(planned, "vmax_volume_group", diags),
        ) else {
            return prior.clone();
        };
        let op = op(
            ctx,
            format!("updating volume group {}", s.name),
            limit(&new.timeouts, |t| &t.update, d.job_timeout()),
        );
        s.timeouts = new.timeouts.clone();
        match d.update_volume_group(&op, &s.name, &new.volume_ids).await {
            Ok(members) => s.volume_ids = members,
            Err(e) => {
                report(diags, "Cannot change the group's members", &e);
                // what the array has now
                if let Ok(Some(m)) = d.volume_group_members(&s.name).await {
                    s.volume_ids = m;
                }
            }
        }
        encode(&s, &self.ty, "vmax_volume_group", diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags) {
        let Some(d) = self.shared.driver(diags) else {
            return;
        };
        let Some(s) = decode::<GroupState>(prior, "vmax_volume_group", diags) else {
            return;
        };
        let op = op(
            ctx,
            format!("deleting volume group {}", s.name),
            limit(&s.timeouts, |t| &t.delete, d.job_timeout()),
        );
        if let Err(e) = d.delete_volume_group(&op, &s.name).await {
            report(diags, "Cannot delete volume group", &e);
        }
    }

    async fn read(&self, _ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s: GroupState = decode(current, "vmax_volume_group", diags)?;
        match d.volume_group_members(&s.name).await {
            Ok(Some(m)) => {
                s.volume_ids = m;
                Some(encode(&s, &self.ty, "vmax_volume_group", diags))
            }
            Ok(None) => None,
            Err(e) => {
                report(diags, "Cannot read volume group", &e);
                Some(current.clone())
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let name = id.trim();
        if let Err(e) = check_group_name(name) {
            diags.error(
                "Invalid import id",
                format!(
                    "import a vmax_volume_group by its name (the storage group OS-<name>-VG): {e}"
                ),
            );
            return None;
        }
        match d.volume_group_members(name).await {
            Ok(Some(m)) => Some(encode(
                &GroupState {
                    id: Some(name.into()),
                    name: name.into(),
                    volume_ids: m,
                    storage_group: Some(group_storage_group(name)),
                    timeouts: None,
                },
                &self.ty,
                "vmax_volume_group",
                diags,
            )),
            Ok(None) => {
                diags.error(
                    "Cannot import volume group",
                    format!(
                        "storage group {} does not exist on array {}",
                        group_storage_group(name),
                        d.array()
                    ),
                );
                None
            }
            Err(e) => {
                report(diags, "Cannot import volume group", &e);
                None
            }
        }
    }
}

// ---- vmax_volume_group_snapshot ----------------------------------------------

pub struct GroupSnapshotResource {
    shared: Arc<Shared>,
    ty: Ty,
}

impl GroupSnapshotResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        GroupSnapshotResource {
            shared,
            ty: group_snapshot_schema().block.ty(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct GroupSnapshotState {
    pub id: Option<String>,
    pub group_id: String,
    pub name: String,
    pub snapshot_ids: Option<BTreeMap<String, String>>,
    pub timestamp: Option<String>,
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
}

pub fn group_snapshot_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "A consistent SnapVX snapshot of every member of a `vmax_volume_group`, taken by the array at one point in time. Each member gets a snapshot of this name; `snapshot_ids` maps each member's device id to its snapshot id, usable as `vmax_volume.source.snapshot_id` (with `for_each` to copy the whole group). Members added to the group later are not in it. Destroying it terminates each member's snapshot, after unlinking copies once their data is defined.".into(),
            attributes: vec![
                Attribute::computed("id", Ty::String, "`<group name>:<snapshot name>`.").keep_state(),
                Attribute::required("group_id", Ty::String, "The `vmax_volume_group` id (its name).").force_new(),
                Attribute::required("name", Ty::String, "Snapshot name: at most 32 letters, digits, `_` and `-`. A name a member already has is refused.").force_new(),
                Attribute::computed("snapshot_ids", Ty::map(Ty::String), "Each member's device id to its snapshot id, `<device>:<name>`.").keep_state(),
                Attribute::computed("timestamp", Ty::String, "When the array took the snapshot.").keep_state(),
            ],
            blocks: vec![timeouts_block(&[
                ("create", "Default: the provider's `job_timeout`."),
                ("delete", "Default: the provider's `job_timeout`."),
            ])],
        },
    }
}

impl GroupSnapshotState {
    fn fill(&mut self, g: &crate::driver::group::GroupSnapshot) {
        self.id = Some(format!("{}:{}", self.group_id, self.name));
        self.snapshot_ids = Some(
            g.members
                .iter()
                .map(|d| (d.clone(), format!("{d}:{}", g.name)))
                .collect(),
        );
        self.timestamp = Some(g.timestamp.clone());
    }

    fn members(&self) -> Vec<String> {
        self.snapshot_ids
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Resource for GroupSnapshotResource {
    fn type_name(&self) -> &'static str {
        "vmax_volume_group_snapshot"
    }

    fn schema(&self) -> Schema {
        group_snapshot_schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(n) = config.get("name").as_str()
            && let Err(e) = check_snapshot_name(n)
        {
            diags.error_at(AttrPath::attr("name"), "Invalid snapshot name", e);
        }
        if let Some(g) = config.get("group_id").as_str()
            && let Err(e) = check_group_name(g)
        {
            diags.error_at(AttrPath::attr("group_id"), "Invalid group id", e);
        }
        validate_timeouts(config, diags);
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s: GroupSnapshotState = decode(planned, "vmax_volume_group_snapshot", diags)?;
        let op = op(
            ctx,
            format!("snapshotting volume group {}", s.group_id),
            limit(&s.timeouts, |t| &t.create, d.job_timeout()),
        );
        match d.create_group_snapshot(&op, &s.group_id, &s.name).await {
            Ok(g) => {
                s.fill(&g);
                Some(encode(&s, &self.ty, "vmax_volume_group_snapshot", diags))
            }
            Err(e) => {
                report(diags, "Cannot snapshot the volume group", &e);
                None
            }
        }
    }

    async fn update(&self, _ctx: &Ctx, prior: &Value, planned: &Value, diags: &mut Diags) -> Value {
        // every argument but timeouts forces a new snapshot
        let (Some(mut s), Some(new)) = (
            decode::<GroupSnapshotState>(prior, "vmax_volume_group_snapshot", diags),
            decode::<GroupSnapshotState>(planned, "vmax_volume_group_snapshot", diags),
        ) else {
            return prior.clone();
        };
        s.timeouts = new.timeouts;
        encode(&s, &self.ty, "vmax_volume_group_snapshot", diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags) {
        let Some(d) = self.shared.driver(diags) else {
            return;
        };
        let Some(s) = decode::<GroupSnapshotState>(prior, "vmax_volume_group_snapshot", diags)
        else {
            return;
        };
        let op = op(
            ctx,
            format!("deleting snapshot {} of group {}", s.name, s.group_id),
            limit(&s.timeouts, |t| &t.delete, d.job_timeout()),
        );
        if let Err(e) = d.delete_group_snapshot(&op, &s.name, &s.members()).await {
            report(diags, "Cannot delete the group snapshot", &e);
        }
    }

    async fn read(&self, _ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s: GroupSnapshotState = decode(current, "vmax_volume_group_snapshot", diags)?;
        match d
            .get_group_snapshot(&s.group_id, &s.name, &s.members())
            .await
        {
            Ok(Some(g)) => {
                s.fill(&g);
                Some(encode(&s, &self.ty, "vmax_volume_group_snapshot", diags))
            }
            Ok(None) => None,
            Err(e) => {
                report(diags, "Cannot read the group snapshot", &e);
                Some(current.clone())
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let Some((group, name)) = id.split_once(':') else {
            diags.error("Invalid import id", format!("import a vmax_volume_group_snapshot as <group name>:<snapshot name>, not {id:?}"));
            return None;
        };
        let members = match d.volume_group_members(group).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                diags.error(
                    "Cannot import group snapshot",
                    format!("volume group {group} does not exist"),
                );
                return None;
            }
            Err(e) => {
                report(diags, "Cannot import group snapshot", &e);
                return None;
            }
        };
        match d.get_group_snapshot(group, name, &members).await {
            Ok(Some(g)) => {
                let mut s = GroupSnapshotState {
                    group_id: group.into(),
                    name: name.into(),
                    ..Default::default()
                };
                s.fill(&g);
                Some(encode(&s, &self.ty, "vmax_volume_group_snapshot", diags))
            }
            Ok(None) => {
                diags.error(
                    "Cannot import group snapshot",
                    format!("no member of volume group {group} has a snapshot named {name}"),
                );
                None
            }
            Err(e) => {
                report(diags, "Cannot import group snapshot", &e);
                None
            }
        }
    }
}
