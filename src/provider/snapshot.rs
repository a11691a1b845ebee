//! `vmax_snapshot`: create_snapshot and delete_snapshot (SnapVX).

use super::{Shared, op, report};
use crate::driver::snapshot::{SnapInfo, check_snapshot_name, parse_snapshot_id};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, Diags, NestedBlock, Nesting, Resource, Schema, Ty, Value,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub struct SnapshotResource {
    shared: Arc<Shared>,
    ty: Ty,
}

impl SnapshotResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        SnapshotResource {
            shared,
            ty: schema().block.ty(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Timeouts {
    pub delete: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SnapshotState {
    pub id: Option<String>,
    pub volume_id: String,
    pub name: String,
    pub generation: Option<i64>,
    pub timestamp: Option<String>,
    pub state: Option<String>,
    pub linked_volume_ids: Option<Vec<String>>,
    pub timeouts: Option<Timeouts>,
}

impl SnapshotState {
    fn fill(&mut self, s: &SnapInfo) {
        self.id = Some(format!("{}:{}", s.source, s.name));
        self.volume_id = s.source.clone();
        self.name = s.name.clone();
        self.generation = Some(s.generation as i64);
        self.timestamp = Some(s.timestamp.clone());
        self.state = Some(s.state.clone());
        self.linked_volume_ids = Some(s.links.iter().map(|l| l.target.clone()).collect());
    }
}

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "A SnapVX snapshot of one volume. Destroying it unlinks any linked volumes (after their copy is defined) and terminates the snapshot.".into(),
            attributes: vec![
                Attribute::computed("id", Ty::String, "`<volume id>:<name>`.").keep_state(),
                Attribute::required("volume_id", Ty::String, "Device id of the source volume.").force_new(),
                Attribute::required("name", Ty::String, "Snapshot name: at most 32 letters, digits, `_` and `-`. A name the volume already has is refused (import that snapshot instead).").force_new(),
                Attribute::computed("generation", Ty::Number, "Generation of the newest snapshot of this name (0 is the newest).").keep_state(),
                Attribute::computed("timestamp", Ty::String, "When the snapshot was taken, as the array reports it.").keep_state(),
                Attribute::computed("state", Ty::String, "SnapVX state, e.g. `Established`.").keep_state(),
                Attribute::computed("linked_volume_ids", Ty::list(Ty::String), "Volumes linked to this snapshot.").keep_state(),
            ],
            blocks: vec![NestedBlock {
                name: "timeouts".into(),
                block: Block {
                    description: "How long destroy may wait for linked copies, e.g. `30m`.".into(),
                    attributes: vec![Attribute::optional("delete", Ty::String, "Default: the provider's `job_timeout`.")],
                    blocks: vec![],
                },
                nesting: Nesting::Single,
                max_items: 1,
            }],
        },
    }
}

impl SnapshotResource {
    fn state(&self, v: &Value, diags: &mut Diags) -> Option<SnapshotState> {
        crate::tfplugin::read_state(v, "vmax_snapshot", diags)
    }
    fn value(&self, s: &SnapshotState, diags: &mut Diags) -> Value {
        crate::tfplugin::write_state(s, &self.ty, "vmax_snapshot", diags)
    }
}

#[async_trait]
impl Resource for SnapshotResource {
    fn type_name(&self) -> &'static str {
        "vmax_snapshot"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(v) = config.get("volume_id").as_str()
            && !(v.len() == 5 && v.chars().all(|c| c.is_ascii_hexdigit()))
        {
            diags.error_at(
                AttrPath::attr("volume_id"),
                "Invalid volume id",
                format!(
                    "volume_id {v:?} must be a device id of five hex digits, e.g. vmax_volume.x.id"
                ),
            );
        }
        if let Some(n) = config.get("name").as_str()
            && let Err(e) = check_snapshot_name(n)
        {
            diags.error_at(AttrPath::attr("name"), "Invalid snapshot name", e);
        }
        if let Some(t) = config.get("timeouts").get("delete").as_str()
            && super::volume::parse_duration(t).is_none()
        {
            diags.error_at(
                AttrPath::attr("timeouts").then_attr("delete"),
                "Invalid duration",
                format!("{t:?} is not a duration such as \"30m\""),
            );
        }
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s = self.state(planned, diags)?;
        let op = op(
            ctx,
            format!("creating snapshot {} of {}", s.name, s.volume_id),
            d.job_timeout(),
        );
        match d.create_snapshot(&op, &s.volume_id, &s.name).await {
            Ok(info) => {
                s.fill(&info);
                Some(self.value(&s, diags))
            }
            Err(e) => {
                report(diags, "Cannot create snapshot", &e);
                None
            }
        }
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
        _diags: &mut Diags,
    ) -> Value {
        // only timeouts can change in place
        planned.clone()
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags) {
        let Some(d) = self.shared.driver(diags) else {
            return;
        };
        let Some(s) = self.state(prior, diags) else {
            return;
        };
        let limit = s
            .timeouts
            .as_ref()
            .and_then(|t| t.delete.as_deref())
            .and_then(super::volume::parse_duration)
            .unwrap_or_else(|| d.job_timeout());
        let op = op(
            ctx,
            format!("deleting snapshot {} of {}", s.name, s.volume_id),
            limit.max(Duration::from_secs(1)),
        );
        match d
            .delete_snapshot(&op, &s.volume_id, &s.name, s.timestamp.as_deref())
            .await
        {
            Ok(()) => d
                .journal
                .forget(d.array(), &format!("snapshot:{}:{}", s.volume_id, s.name)),
            Err(e) => report(diags, "Cannot delete snapshot", &e),
        }
    }

    async fn read(&self, _ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s = self.state(current, diags)?;
        match d
            .get_snapshot_at(&s.volume_id, &s.name, s.timestamp.as_deref())
            .await
        {
            Ok(Some(info)) => {
                d.journal
                    .forget(d.array(), &format!("snapshot:{}:{}", s.volume_id, s.name));
                s.fill(&info);
                Some(self.value(&s, diags))
            }
            Ok(None) => None,
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                diags.error("Cannot read snapshot", e.to_string());
                Some(current.clone())
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let Some((dev, name)) = parse_snapshot_id(id) else {
            diags.error("Invalid import id", format!("import a vmax_snapshot as <volume device id>:<snapshot name>, e.g. 0001A:nightly, not {id:?}"));
            return None;
        };
        match d.get_snapshot(&dev, &name).await {
            Ok(Some(info)) => {
                let mut s = SnapshotState::default();
                s.fill(&info);
                Some(self.value(&s, diags))
            }
            Ok(None) => {
                diags.error(
                    "Cannot import snapshot",
                    format!("volume {dev} has no snapshot named {name}"),
                );
                None
            }
            Err(e) => {
                diags.error("Cannot import snapshot", e.to_string());
                None
            }
        }
    }
}
