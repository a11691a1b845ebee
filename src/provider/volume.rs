//! `vmax_volume`: create_volume, extend_volume, delete_volume, rename,
//! retype, manage (import) and unmanage.

use super::{Shared, op, report};
use crate::driver::naming::{Compression, Distribution, Qos};
use crate::driver::replication::{Pair, Side};
use crate::driver::snapshot::{Source, parse_snapshot_id};
use crate::driver::{Policy, VolumeInfo, naming};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, Diags, NestedBlock, Nesting, Plan, Resource, Schema, Ty,
    Validator, Value,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub struct VolumeResource {
    shared: Arc<Shared>,
    ty: Ty,
}

impl VolumeResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        let ty = schema().block.ty();
        VolumeResource { shared, ty }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Timeouts {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

/// The resource's state, typed.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct VolumeState {
    pub id: Option<String>,
    pub name: String,
    pub size_gb: i64,
    pub service_level: String,
    pub workload: Option<String>,
    pub srp: Option<String>,
    pub array: Option<String>,
    pub wwn: Option<String>,
    pub volume_identifier: Option<String>,
    pub storage_group: Option<String>,
    pub pool_name: Option<String>,
    pub deletion_policy: String,
    pub timeouts: Option<Timeouts>,
    #[serde(default)]
    pub source: Option<SourceCfg>,
    #[serde(default)]
    pub wait_for_copy: Option<bool>,
    /// `None`: the array's default.
    #[serde(default)]
    pub compression: Option<bool>,
    #[serde(default)]
    pub qos: Option<QosCfg>,
    #[serde(default)]
    pub replicated: Option<bool>,
    #[serde(default)]
    pub replication_active_side: Option<String>,
    #[serde(default)]
    pub remote_device_id: Option<String>,
    #[serde(default)]
    pub replication_state: Option<String>,
}

/// The `qos` block: host I/O limits.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct QosCfg {
    pub max_iops: Option<i64>,
    pub max_mbps: Option<i64>,
    pub distribution: Option<String>,
}

impl QosCfg {
    fn to_qos(&self) -> Qos {
        let n = |v: Option<i64>| v.and_then(|x| u32::try_from(x).ok());
        Qos {
            max_iops: n(self.max_iops),
            max_mbps: n(self.max_mbps),
            distribution: self
                .distribution
                .as_deref()
                .and_then(Distribution::parse)
                .unwrap_or_default(),
        }
    }

    fn from_qos(q: &Qos) -> QosCfg {
        QosCfg {
            max_iops: q.max_iops.map(i64::from),
            max_mbps: q.max_mbps.map(i64::from),
            distribution: Some(q.distribution.as_str().to_string()),
        }
    }
}

/// Where a new volume's data comes from (`source` block).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct SourceCfg {
    pub snapshot_id: Option<String>,
    pub volume_id: Option<String>,
}

impl SourceCfg {
    fn to_source(&self) -> Option<Source> {
        match (&self.snapshot_id, &self.volume_id) {
            (Some(id), None) => {
                parse_snapshot_id(id).map(|(device, name)| Source::Snapshot { device, name })
            }
            (None, Some(v)) => Some(Source::Volume {
                device: v.to_ascii_uppercase(),
            }),
            _ => None,
        }
    }
}

impl VolumeState {
    fn policy(&self, default_srp: &str) -> Policy {
        Policy::new(
            self.srp.as_deref().unwrap_or(default_srp),
            Some(&self.service_level),
            self.workload.as_deref(),
        )
        .with(
            Compression::from_choice(self.compression),
            self.qos.as_ref().map(QosCfg::to_qos),
        )
        .replicated(self.is_replicated())
    }

    fn is_replicated(&self) -> bool {
        self.replicated.unwrap_or(false)
    }

    fn wants_remote(&self) -> bool {
        self.replication_active_side.as_deref() == Some("remote")
    }

    /// Records the pair (or its absence) as the array reports it.
    fn set_pair(&mut self, pair: Option<&Pair>) {
        match pair {
            Some(p) => {
                self.replicated = Some(true);
                self.remote_device_id = Some(p.remote_device.clone());
                self.replication_state = Some(p.state.clone());
                self.replication_active_side = Some(p.active_side().as_str().to_string());
            }
            None => {
                self.replicated = Some(false);
                self.remote_device_id = None;
                self.replication_state = None;
                self.replication_active_side = Some("local".into());
            }
        }
    }

    /// Fills what the array says, keeping configuration-only fields.
    fn refresh(&mut self, v: &VolumeInfo, array: &str, default_srp: &str) {
        self.id = Some(v.device_id.clone());
        self.wwn = Some(v.wwn.clone());
        self.array = Some(array.to_string());
        self.size_gb = v.size_gb.round() as i64;
        self.volume_identifier = v.identifier.clone();
        self.name = naming::name_from_identifier(v.identifier.as_deref().unwrap_or("")).to_string();
        let p = v
            .policy
            .clone()
            .unwrap_or_else(|| Policy::new(self.srp.as_deref().unwrap_or(default_srp), None, None));
        self.service_level = p.slo.clone().unwrap_or_else(|| "None".into());
        self.workload = p.workload.clone();
        self.srp = Some(p.srp.clone());
        self.pool_name = Some(p.pool_name(array));
        // limits as the group has them (none = no block); compression only
        // when chosen (unset is the array's default, whatever it is)
        if let Some(st) = &v.settings {
            self.qos = st.qos.as_ref().map(QosCfg::from_qos);
            if self.compression.is_some()
                && let Some(c) = st.compression
            {
                self.compression = Some(c);
            }
        } else if p.slo.is_none() {
            self.qos = None;
        }
        // while exported, the volume sits in its hosts' child groups, which
        // vmax_iscsi_export owns; the volume's own group is its policy's default
        self.storage_group = if v.masking_views.is_empty() && !v.in_export_group {
            v.policy_group
                .clone()
                .or_else(|| v.storage_groups.first().cloned())
        } else {
            Some(p.default_storage_group())
        };
    }
}

pub fn schema() -> Schema {
    let timeouts = Block {
        description: "How long each operation may take, as Go durations such as `500ms`, `30s`, `10m`, `1h30m`."
            .into(),
        attributes: vec![
            Attribute::optional("create", Ty::String, "Default `20m`."),
            Attribute::optional("update", Ty::String, "Default `20m`."),
            Attribute::optional("delete", Ty::String, "Default `20m`."),
        ],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: "A VMAX / PowerMax thin volume (TDEV), managed the way the VMAX iSCSI driver does: identifier `OS-<name>`, placed in the default storage group of its service level (`OS-<srp>-<slo>-<workload>-SG`).".into(),
            attributes: vec![
                Attribute::computed("id", Ty::String, "The device id, five hex digits, e.g. `0001A`.").keep_state(),
                Attribute::required("name", Ty::String, "Volume name; the array's volume identifier is `OS-<name>`. A name whose identifier is already on the array is refused before any change (import that volume instead, or choose another name). Changing it renames the volume in place, again only onto a free identifier."),
                Attribute::required("size_gb", Ty::Number, "Size in GB. Growing it extends the volume in place; shrinking is refused at plan time."),
                Attribute::optional("service_level", Ty::String, "Service level (SLO): one of the array's levels (`Diamond`, `Platinum`, `Gold`, `Silver`, `Bronze`, `Optimized`), or `None`. Changing it moves the volume in place (retype). Default `Optimized`.").with_default(Value::string("Optimized")),
                Attribute::optional("workload", Ty::String, "Workload type (`OLTP`, `OLTP_REP`, `DSS`, `DSS_REP`); needs a service level. Omit for none. Changing it retypes in place."),
                Attribute::optional_computed("srp", Ty::String, "Storage resource pool. Default: the provider's `srp`.").force_new().keep_state(),
                Attribute::optional("deletion_policy", Ty::String, "`delete` (default) deletes the volume on destroy; `unmanage` leaves it and its data on the array and renames it to drop the `OS-` prefix.").with_default(Value::string("delete")).validate(Validator::one_of(&["delete", "unmanage"])),
                Attribute::optional("wait_for_copy", Ty::Bool, "With `source`: wait until the copy is complete, then unlink it (and remove a clone's temporary snapshot). Default `false`: the copy finishes in the background and is unlinked before the volume is changed or deleted.").with_default(Value::Bool(false)),
                Attribute::optional("compression", Ty::Bool, "Whether the array compresses the volume's data (All Flash arrays only; needs a service level). `false` puts the volume in its policy's `-CD` group, made without compression; `true` asks for compression explicitly. Omit for the array's default (compressed on arrays that compress). Changing it moves the volume in place. Refused at plan time on an array that does not compress."),
                Attribute::optional("replicated", Ty::Bool, "SRDF/S replication to the provider's `replication.remote_array`: a twin volume with the same identifier on the remote array, paired synchronously in the RDF group `replication.rdf_group_label`. Changing it is in place: turning it on makes the twin and copies the data (a full copy), turning it off splits and deletes the pair and deletes the twin. Needs the provider's `replication` block. Default `false`.").with_default(Value::Bool(false)),
                Attribute::optional("replication_active_side", Ty::String, "Which array serves the volume: `local` (default) or `remote`. Changing it fails the pair over (to `remote`) or back (to `local`) in place, and waits for the state; a failover made outside Terraform shows as drift. Exports follow the active side. This is not an automatic disaster-recovery orchestrator: nothing fails over by itself.").with_default(Value::string("local")).validate(Validator::one_of(&["local", "remote"])),
                Attribute::computed("remote_device_id", Ty::String, "The twin's device id on the remote array (replicated volumes).").keep_state(),
                Attribute::computed("replication_state", Ty::String, "The RDF pair state as the array reports it: `Synchronized`, `SyncInProg`, `Suspended`, `Split`, `Failed Over`... (replicated volumes)."),
                Attribute::computed("array", Ty::String, "Serial of the array holding the volume.").keep_state(),
                Attribute::computed("wwn", Ty::String, "The volume's WWN.").keep_state(),
                Attribute::computed("volume_identifier", Ty::String, "The identifier on the array: `OS-<name>`.").keep_state(),
                Attribute::computed("storage_group", Ty::String, "The default storage group of the volume's policy, `OS-<srp>-<slo>-<workload>[-CD][<limits>]-SG`, which holds it while it is not exported (an export moves it into the host's child group). `-CD`: compression disabled; `<limits>`: `-Q<iops>IO`, `-<mbps>MB` and `-OnFail` or `-Always`, e.g. `OS-SRP_1-Diamond-OLTP-Q5000IO-200MB-OnFail-SG`.").keep_state(),
                Attribute::computed("pool_name", Ty::String, "The driver's pool name `<slo>+<workload>+<srp>+<array>`.").keep_state(),
            ],
            blocks: vec![
                NestedBlock { name: "timeouts".into(), block: timeouts, nesting: Nesting::Single, max_items: 1 },
                NestedBlock {
                    name: "qos".into(),
                    block: Block {
                        description: "Host I/O limits (back-end QoS) for the volume. The volume sits in a storage group of its own policy whose limits are exactly these (never the shared group of its service level), so they apply only to volumes asking for the same limits; the limit is shared by the volumes of that group on the ports of their views. Needs a service level. Changing or removing the block moves the volume in place; limits changed on the array show as drift and the next apply sets them back.".into(),
                        attributes: vec![
                            Attribute::optional("max_iops", Ty::Number, "Most I/O operations per second: 100 to 100000, in steps of 100. Omit for no IO/s limit."),
                            Attribute::optional("max_mbps", Ty::Number, "Most MB per second: 1 to 100000. Omit for no bandwidth limit."),
                            Attribute::optional("distribution", Ty::String, "How the limit is spread over the directors of the port group: `Never` (default: divided equally), `OnFailure` (redistributed when a director fails) or `Always` (redistributed dynamically).").with_default(Value::string("Never")).validate(Validator::one_of(&Distribution::NAMES)),
                        ],
                        blocks: vec![],
                    },
                    nesting: Nesting::Single,
                    max_items: 1,
                },
                NestedBlock {
                    name: "source".into(),
                    block: Block {
                        description: "Make the volume as a copy: of a snapshot (create_volume_from_snapshot) or of a volume (create_cloned_volume, through a temporary snapshot). Set exactly one attribute. Changing it forces a new volume.".into(),
                        attributes: vec![
                            Attribute::optional("snapshot_id", Ty::String, "A `vmax_snapshot` id, `<volume id>:<name>`."),
                            Attribute::optional("volume_id", Ty::String, "Device id of the volume to clone."),
                        ],
                        blocks: vec![],
                    },
                    nesting: Nesting::Single,
                    max_items: 1,
                },
            ],
        },
    }
}

/// Parses a duration in Go's syntax, as Terraform's `timeouts` blocks take
/// it: one or more `<number><unit>` with units `ns`, `us` (or `µs`), `ms`,
/// `s`, `m`, `h`, e.g. `500ms`, `1h30m`, `1.5h`. Zero and negative
/// durations are refused (an operation could never run).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() || rest.starts_with('-') {
        return None;
    }
    rest = rest.strip_prefix('+').unwrap_or(rest);
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let (unit, len) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .iter()
        .find(|(u, _)| rest.starts_with(u))
        .map(|(u, f)| (*f, u.len()))?;
        total += num * unit;
        rest = &rest[len..];
    }
    (total > 0.0 && total.is_finite()).then(|| Duration::from_secs_f64(total))
}

/// A `timeouts` block with these operations (Go durations).
pub(crate) fn timeouts_block(ops: &[(&str, &str)]) -> NestedBlock {
    NestedBlock {
        name: "timeouts".into(),
        block: Block {
            description: "How long each operation may take, as Go durations such as `500ms`, `30s`, `10m`, `1h30m`. An operation that runs out of time, or that Terraform stops, undoes what it did or stops between two steps.".into(),
            attributes: ops
                .iter()
                .map(|(op, default)| Attribute::optional(op, Ty::String, default))
                .collect(),
            blocks: vec![],
        },
        nesting: Nesting::Single,
        max_items: 1,
    }
}

fn timeout_of(t: &Option<Timeouts>, pick: fn(&Timeouts) -> &Option<String>) -> Duration {
    duration_or(
        t.as_ref().and_then(|t| pick(t).as_deref()),
        Duration::from_secs(20 * 60),
    )
}

/// A configured duration, else `default`.
pub(crate) fn duration_or(configured: Option<&str>, default: Duration) -> Duration {
    configured.and_then(parse_duration).unwrap_or(default)
}

/// Checks every duration in a `timeouts` block, with its path.
pub(crate) fn validate_timeouts(config: &Value, diags: &mut Diags) {
    if let Value::Object(t) = config.get("timeouts") {
        for (k, v) in t {
            if let Some(s) = v.as_str()
                && parse_duration(s).is_none()
            {
                diags.error_at(
                    AttrPath::attr("timeouts").then_attr(k),
                    "Invalid duration",
                    format!(
                        "{s:?} is not a duration such as \"500ms\", \"30s\", \"10m\" or \"1h30m\""
                    ),
                );
            }
        }
    }
}

const SHRINK: &str = "Only Extend is supported";

/// A successful update keeps the pair figures the plan already knew (a
/// state that moved since, e.g. SyncInProg -> Synchronized, is the next
/// refresh's to report): Terraform requires known planned values to stay.
fn keep_planned(mut cur: VolumeState, planned: &VolumeState) -> VolumeState {
    if cur.is_replicated() && planned.is_replicated() {
        if planned.replication_state.is_some() {
            cur.replication_state = planned.replication_state.clone();
        }
        if planned.remote_device_id.is_some() {
            cur.remote_device_id = planned.remote_device_id.clone();
        }
    }
    cur
}

/// The service levels arrays know, in their canonical spelling.
const SERVICE_LEVELS: &[&str] = &[
    "Diamond",
    "Platinum",
    "Gold",
    "Silver",
    "Bronze",
    "Optimized",
    "None",
];

/// The workload types arrays know, in their canonical spelling.
const WORKLOADS: &[&str] = &["OLTP", "OLTP_REP", "DSS", "DSS_REP"];

/// The size this provider last applied, from the private state.
fn applied_size(ctx: &Ctx) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(&ctx.private())
        .ok()?
        .get("applied_size_gb")?
        .as_i64()
}

fn record_applied_size(ctx: &Ctx, size: i64) {
    ctx.set_private(
        serde_json::json!({"applied_size_gb": size})
            .to_string()
            .into_bytes(),
    );
}

/// The canonical spelling of `v` in `known`, ignoring case.
fn canonical(v: &str, known: &[&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(v))
}

fn validate_config(config: &Value, diags: &mut Diags) {
    if let Value::Object(src) = config.get("source") {
        let snap = src.get("snapshot_id").cloned().unwrap_or_default();
        let vol = src.get("volume_id").cloned().unwrap_or_default();
        if !snap.is_unknown() && !vol.is_unknown() && snap.is_null() == vol.is_null() {
            diags.error_at(AttrPath::attr("source"), "Set exactly one source", "source needs exactly one of snapshot_id (a vmax_snapshot id) or volume_id (a volume to clone).");
        }
        if let Some(id) = snap.as_str()
            && parse_snapshot_id(id).is_none()
        {
            diags.error_at(
                AttrPath::attr("source").then_attr("snapshot_id"),
                "Invalid snapshot id",
                format!("{id:?} is not a snapshot id <volume id>:<name>, e.g. vmax_snapshot.x.id"),
            );
        }
    }
    if let Some(n) = config.get("name").as_str() {
        let id = naming::volume_identifier(n);
        if n.is_empty() || id.len() > 64 || n.chars().any(|c| !(' '..='~').contains(&c)) {
            diags.error_at(AttrPath::attr("name"), "Invalid volume name", format!("name {n:?} must be 1 to 61 printable ASCII characters (the identifier OS-<name> is at most 64)"));
        }
    }
    if let Some(s) = config.get("size_gb").as_i64() {
        if s < 1 {
            diags.error_at(
                AttrPath::attr("size_gb"),
                "Invalid size",
                format!("size_gb must be at least 1, not {s}"),
            );
        }
    } else if let Value::Number(n) = config.get("size_gb") {
        diags.error_at(
            AttrPath::attr("size_gb"),
            "Invalid size",
            format!("size_gb must be a whole number of GB, not {n}"),
        );
    }
    // enumerations take one spelling: a different case would come back
    // from the array in the canonical one and look like a change
    if let Some(slo) = config.get("service_level").as_str() {
        match canonical(slo, SERVICE_LEVELS) {
            Some(c) if c != slo => diags.error_at(
                AttrPath::attr("service_level"),
                "Service level spelled differently",
                format!("service_level {slo:?} must be written {c:?}"),
            ),
            None if slo.trim().is_empty() => diags.error_at(
                AttrPath::attr("service_level"),
                "Empty service level",
                "service_level must not be empty; write \"None\" for no service level",
            ),
            _ => {}
        }
    }
    if let Some(w) = config.get("workload").as_str() {
        if w.trim().is_empty() || w.eq_ignore_ascii_case("none") {
            diags.error_at(
                AttrPath::attr("workload"),
                "No workload is written by leaving it out",
                format!("workload {w:?}: omit workload for none"),
            );
        } else if let Some(c) = canonical(w, WORKLOADS)
            && c != w
        {
            diags.error_at(
                AttrPath::attr("workload"),
                "Workload spelled differently",
                format!("workload {w:?} must be written {c:?}"),
            );
        }
    }
    let slo_none = config
        .get("service_level")
        .as_str()
        .is_some_and(|s| s == "None");
    if slo_none && config.get("workload").as_str().is_some() {
        diags.error_at(AttrPath::attr("workload"), "Workload needs a service level", "A workload cannot be set when service_level is \"None\"; remove workload or choose a service level.");
    }
    if slo_none && !config.get("compression").is_null() {
        diags.error_at(AttrPath::attr("compression"), "Compression needs a service level", "compression cannot be chosen when service_level is \"None\" (the array compresses only groups with a service level); remove compression or choose a service level.");
    }
    if let Value::Object(q) = config.get("qos") {
        if slo_none {
            diags.error_at(AttrPath::attr("qos"), "Host I/O limits need a service level", "qos cannot be set when service_level is \"None\"; remove the qos block or choose a service level.");
        }
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let mut whole = |k: &str| -> Option<u32> {
            match get(k) {
                Value::Number(n) => match Value::Number(n.clone())
                    .as_i64()
                    .and_then(|i| u32::try_from(i).ok())
                {
                    Some(i) => Some(i),
                    None => {
                        diags.error_at(
                            AttrPath::attr("qos").then_attr(k),
                            "Invalid host I/O limit",
                            format!("{k} must be a whole positive number, not {n}"),
                        );
                        None
                    }
                },
                _ => None,
            }
        };
        let iops = whole("max_iops");
        let mbps = whole("max_mbps");
        if get("max_iops").is_null() && get("max_mbps").is_null() {
            diags.error_at(
                AttrPath::attr("qos"),
                "No host I/O limit",
                "qos needs max_iops, max_mbps or both; remove the block for no limits.",
            );
        }
        let q = Qos {
            max_iops: iops,
            max_mbps: mbps,
            distribution: Distribution::Never,
        };
        if let Err((attr, msg)) = q.check() {
            let k = attr.trim_start_matches("qos.");
            diags.error_at(
                AttrPath::attr("qos").then_attr(k),
                "Host I/O limit out of range",
                msg,
            );
        }
    }
    if config.get("replication_active_side").as_str() == Some("remote")
        && config.get("replicated").as_bool() != Some(true)
        && !config.get("replicated").is_unknown()
    {
        diags.error_at(
            AttrPath::attr("replication_active_side"),
            "Only a replicated volume fails over",
            "replication_active_side = \"remote\" needs replicated = true",
        );
    }
    if let Value::Object(t) = config.get("timeouts") {
        for (k, v) in t {
            if let Some(s) = v.as_str()
                && parse_duration(s).is_none()
            {
                diags.error_at(
                    AttrPath::attr("timeouts").then_attr(k),
                    "Invalid duration",
                    format!(
                        "{s:?} is not a duration such as \"500ms\", \"30s\", \"10m\" or \"1h30m\""
                    ),
                );
            }
        }
    }
}

impl VolumeResource {
    fn state(&self, v: &Value, diags: &mut Diags) -> Option<VolumeState> {
        crate::tfplugin::read_state(v, "vmax_volume", diags)
    }

    fn value(&self, s: &VolumeState, diags: &mut Diags) -> Value {
        crate::tfplugin::write_state(s, &self.ty, "vmax_volume", diags)
    }
}

#[async_trait]
impl Resource for VolumeResource {
    fn type_name(&self) -> &'static str {
        "vmax_volume"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        validate_config(config, diags);
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan, diags: &mut Diags) {
        let driver = self.shared.try_driver();
        if plan.planned.get("srp").is_null()
            || plan.planned.get("srp").is_unknown() && plan.prior.is_none()
        {
            match &driver {
                Some(d) => plan.planned.set_attr("srp", Value::string(&d.settings.srp)),
                None => plan.unknown("srp"),
            }
        }
        if let Some(d) = &driver {
            plan.planned.set_attr("array", Value::string(d.array()));
        }
        // shrink is refused at plan time with the seed's message; a volume
        // grown outside Terraform says so (the size this provider last
        // applied is kept in private state)
        if let (Some(prior), Some(new)) = (
            plan.prior.as_ref().and_then(|p| p.get("size_gb").as_i64()),
            plan.planned.get("size_gb").as_i64(),
        ) && new < prior
        {
            let applied = applied_size(ctx);
            if applied.is_some_and(|a| a < prior && new <= a) {
                diags.error_at(
                    AttrPath::attr("size_gb"),
                    "Volume grown outside Terraform",
                    format!(
                        "The volume was grown outside Terraform from {} GB to {prior} GB, and volumes cannot shrink. Set size_gb = {prior} to accept its size.",
                        applied.unwrap_or_default()
                    ),
                );
            } else {
                diags.error_at(
                    AttrPath::attr("size_gb"),
                    "Volumes cannot shrink",
                    format!("Your original size: {prior} GB is greater than: {new} GB. {SHRINK}. To make a smaller volume, replace this one (for example with `terraform apply -replace`)."),
                );
            }
        }
        if let Some(prior) = &plan.prior
            && prior.get("source") != plan.planned.get("source")
        {
            plan.requires_replace.push(AttrPath::attr("source"));
        }
        // a copy must be at least as large as its source: check at plan time when known
        if let (Some(d), Some(size)) = (&driver, plan.planned.get("size_gb").as_i64())
            && plan.prior.is_none()
        {
            let src = plan.planned.get("source");
            let dev = src
                .get("volume_id")
                .as_str()
                .map(|v| v.to_ascii_uppercase())
                .or_else(|| {
                    src.get("snapshot_id")
                        .as_str()
                        .and_then(parse_snapshot_id)
                        .map(|(dev, _)| dev)
                });
            if let Some(dev) = dev
                && let Ok(Some(src_gb)) = d.volume_size(&dev).await
                && (size as f64) < src_gb
            {
                diags.error_at(
                    AttrPath::attr("size_gb"),
                    "Copy smaller than its source",
                    format!("size_gb {size} is smaller than the source volume {dev} ({src_gb} GB); a copy must be at least as large as its source"),
                );
            }
        }
        // growing a snapshot source where the array cannot: refuse now, not at apply
        if let (Some(d), Some(prior)) = (&driver, &plan.prior)
            && let (Some(old), Some(new), Some(dev)) = (
                prior.get("size_gb").as_i64(),
                plan.planned.get("size_gb").as_i64(),
                prior.get("id").as_str(),
            )
            && new > old
            && let Err(e) = d.check_extend(dev).await
        {
            report(diags, "Volume cannot grow now", &e);
        }
        // replication: checked against the provider's block and the array
        let replicated = plan.planned.get("replicated").as_bool();
        let prior_rep = plan
            .prior
            .as_ref()
            .and_then(|p| p.get("replicated").as_bool());
        if replicated == Some(true)
            && let Some(d) = &driver
        {
            match d.replication() {
                None => diags.error_at(
                    AttrPath::attr("replicated"),
                    "Replication is not configured",
                    "replicated = true needs the provider's replication block (remote_array, rdf_group_label, and remote_srp / remote_port_groups as needed); add it, or remove replicated",
                ),
                Some(r) => {
                    if let Err(e) = d.check_replication().await {
                        report(diags, "Replication cannot be used", &e);
                    }
                    let grows = match (
                        plan.prior.as_ref().and_then(|p| p.get("size_gb").as_i64()),
                        plan.planned.get("size_gb").as_i64(),
                    ) {
                        (Some(old), Some(new)) => new > old,
                        _ => false,
                    };
                    if prior_rep == Some(true) && grows && !r.allow_extend {
                        diags.error_at(
                            AttrPath::attr("size_gb"),
                            "Replicated volumes cannot grow here",
                            "This volume is replicated, and growing a replicated volume suspends its pair while both sides grow; the provider allows it only with allow_extend = true in its replication block. Set that, or keep size_gb.",
                        );
                    }
                }
            }
        }
        let side_changed = plan.prior.as_ref().is_some_and(|p| {
            p.get("replication_active_side") != plan.planned.get("replication_active_side")
        });
        if replicated != Some(true) {
            plan.planned.set_attr("remote_device_id", Value::Null);
            plan.planned.set_attr("replication_state", Value::Null);
        } else if prior_rep != Some(true) {
            plan.unknown("remote_device_id");
            plan.unknown("replication_state");
        } else if side_changed {
            plan.unknown("replication_state");
        }
        if let Some(n) = plan.planned.get("name").as_str() {
            plan.planned.set_attr(
                "volume_identifier",
                Value::string(naming::volume_identifier(n)),
            );
        } else {
            plan.unknown("volume_identifier");
        }
        let slo = plan.planned.get("service_level").as_str().map(String::from);
        let workload = plan.planned.get("workload").clone();
        let srp = plan.planned.get("srp").as_str().map(String::from);
        let compression = plan.planned.get("compression").clone();
        let qos = plan.planned.get("qos").clone();
        let qos_known = match &qos {
            Value::Object(q) => q.values().all(|v| !v.is_unknown()),
            v => !v.is_unknown(),
        };
        let known = slo.is_some()
            && !workload.is_unknown()
            && srp.is_some()
            && !compression.is_unknown()
            && qos_known;
        if known && let (Some(slo), Some(srp)) = (&slo, &srp) {
            let qos_cfg: Option<QosCfg> = qos.decode().ok().flatten();
            let p = Policy::new(srp, Some(slo), workload.as_str())
                .with(
                    Compression::from_choice(compression.as_bool()),
                    qos_cfg.as_ref().map(QosCfg::to_qos),
                )
                .replicated(plan.planned.get("replicated").as_bool() == Some(true));
            if let Some(d) = &driver {
                if let Err(e) = d.validate_policy(&p).await {
                    report(diags, "Invalid storage policy", &e);
                }
                plan.planned
                    .set_attr("pool_name", Value::string(p.pool_name(d.array())));
            } else {
                plan.unknown("pool_name");
            }
            // the volume always converges on its policy's default group (an
            // imported volume moves there on the first apply)
            plan.planned
                .set_attr("storage_group", Value::string(p.default_storage_group()));
        } else {
            plan.unknown("pool_name");
            plan.unknown("storage_group");
        }
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s = self.state(planned, diags)?;
        let policy = s.policy(&d.settings.srp);
        let limit = timeout_of(&s.timeouts, |t| &t.create);
        let op = op(
            ctx,
            format!("creating volume {}", naming::volume_identifier(&s.name)),
            limit,
        );
        let source = s.source.as_ref().and_then(SourceCfg::to_source);
        let wait = s.wait_for_copy.unwrap_or(false);
        let mut pair = None;
        let r = match (&source, s.is_replicated()) {
            (None, true) => d
                .create_replicated(&op, &s.name, s.size_gb, &policy)
                .await
                .map(|(v, p)| {
                    pair = Some(p);
                    v
                }),
            (Some(src), rep) => {
                let made = d
                    .create_volume_from_source(
                        &op,
                        &s.name,
                        s.size_gb,
                        &policy.clone().replicated(false),
                        src,
                        wait,
                    )
                    .await;
                match made {
                    Ok(v) if rep => match d.enable_replication(&op, &v.device_id, &policy).await {
                        Ok(p) => {
                            pair = Some(p);
                            d.get_volume(&v.device_id).await.map(|x| x.unwrap_or(v))
                        }
                        Err(e) => {
                            // the copy is removed: a failed create leaves nothing
                            if let Err(ue) = d
                                .delete_volume(&crate::driver::Op::unbounded("undo"), &v.device_id)
                                .await
                            {
                                tracing::error!(device = %v.device_id, error = %ue, "could not remove the copy");
                                diags.error("Volume left on the array", format!("copy {} could not be removed after replication failed: {ue}; delete it on the array", v.device_id));
                            }
                            Err(e)
                        }
                    },
                    other => other,
                }
            }
            (None, false) => d.create_volume(&op, &s.name, s.size_gb, &policy).await,
        };
        // a volume made to serve from the remote array fails over at once
        let r = match (r, &pair) {
            (Ok(v), Some(_)) if s.wants_remote() => {
                match d.set_active_side(&op, &v.device_id, Side::Remote).await {
                    Ok(p) => {
                        pair = Some(p);
                        Ok(v)
                    }
                    Err(e) => {
                        report(diags, "Cannot fail the new volume over", &e);
                        s.refresh(&v, d.array(), &d.settings.srp);
                        s.set_pair(pair.as_ref());
                        record_applied_size(ctx, s.size_gb);
                        return Some(self.value(&s, diags));
                    }
                }
            }
            (r, _) => r,
        };
        match r {
            Ok(v) => {
                tracing::info!(device = %v.device_id, name = %s.name, "volume created");
                s.refresh(&v, d.array(), &d.settings.srp);
                if s.is_replicated() {
                    s.set_pair(pair.as_ref());
                } else {
                    s.set_pair(None);
                }
                record_applied_size(ctx, s.size_gb);
                Some(self.value(&s, diags))
            }
            Err(e) => {
                report(diags, "Cannot create volume", &e);
                // a volume the failed create could not remove is recorded
                // (Terraform taints it), so it is never orphaned
                if let Some(dev) = e.leftover_device()
                    && let Ok(Some(v)) = d.get_volume(dev).await
                {
                    s.refresh(&v, d.array(), &d.settings.srp);
                    diags.warning("Volume recorded in state", format!("volume {dev} was made before the error and could not be removed; it is kept in state (tainted) so that it is not orphaned, and the next apply replaces it"));
                    return Some(self.value(&s, diags));
                }
                None
            }
        }
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value, diags: &mut Diags) -> Value {
        let Some(d) = self.shared.driver(diags) else {
            return prior.clone();
        };
        let (Some(old), Some(new)) = (self.state(prior, diags), self.state(planned, diags)) else {
            return prior.clone();
        };
        let Some(dev) = old.id.clone() else {
            diags.error(
                "Volume has no id",
                "the state holds no device id; remove it from state and import the volume",
            );
            return prior.clone();
        };
        // what is recorded advances step by step, so a failure leaves state true
        let mut cur = old.clone();
        cur.deletion_policy = new.deletion_policy.clone();
        cur.timeouts = new.timeouts.clone();
        cur.wait_for_copy = new.wait_for_copy;
        cur.source = new.source.clone();
        let limit = timeout_of(&new.timeouts, |t| &t.update);
        let srp = d.settings.srp.clone();
        // the volume as the last step left it, when that step says
        let mut latest = None;
        // the twin of a replicated volume, on the remote array
        let twin = if old.is_replicated() {
            old.remote_device_id.clone()
        } else {
            None
        };
        if new.name != old.name
            || old.volume_identifier.as_deref()
                != Some(naming::volume_identifier(&new.name).as_str())
        {
            let ident = naming::volume_identifier(&new.name);
            let o = op(ctx, format!("renaming volume {dev}"), limit);
            let r = async {
                d.rename_volume(&o, &dev, &ident).await?;
                // the twin carries the same identifier
                if let Some(t) = &twin {
                    d.remote().await?.rename_volume(&o, t, &ident).await?;
                }
                Ok::<(), crate::driver::DriverError>(())
            }
            .await;
            match r {
                Ok(()) => {
                    cur.name = new.name.clone();
                    cur.volume_identifier = Some(ident);
                }
                Err(e) => {
                    report(diags, "Cannot rename volume", &e);
                    return self.value(&cur, diags);
                }
            }
        }
        // replication off first (the volume leaves its -RE group)
        if old.is_replicated() && !new.is_replicated() {
            let o = op(
                ctx,
                format!("turning off replication of volume {dev}"),
                limit,
            );
            let mut p = cur.policy(&srp);
            p.replicated = false;
            match d.disable_replication(&o, &dev, &p).await {
                Ok(()) => cur.set_pair(None),
                Err(e) => {
                    report(diags, "Cannot turn replication off", &e);
                    if let Ok(pair) = d.pair(&dev).await {
                        cur.set_pair(pair.as_ref());
                    }
                    return self.value(&cur, diags);
                }
            }
        }
        if new.size_gb > old.size_gb {
            let o = op(ctx, format!("extending volume {dev}"), limit);
            let r = if cur.is_replicated() {
                d.extend_replicated(&o, &dev, new.size_gb).await
            } else {
                d.extend_volume(&o, &dev, new.size_gb).await
            };
            match r {
                Ok(()) => cur.size_gb = new.size_gb,
                Err(e) => {
                    report(diags, "Cannot extend volume", &e);
                    if cur.is_replicated()
                        && let Ok(pair) = d.pair(&dev).await
                    {
                        cur.set_pair(pair.as_ref());
                    }
                    return self.value(&cur, diags);
                }
            }
        }
        // the policy the volume has now, and the one it is to have (the
        // replication part is the enable step's)
        let cur_p = cur.policy(&srp);
        let mut np = new.policy(&srp);
        np.replicated = cur.is_replicated();
        if cur_p != np || old.storage_group.as_deref() != Some(np.default_storage_group().as_str())
        {
            let o = op(ctx, format!("retyping volume {dev}"), limit);
            match d.retype(&o, &dev, &np).await {
                Ok(v) => {
                    cur.compression = new.compression;
                    cur.qos = new.qos.clone();
                    cur.refresh(&v, d.array(), &srp);
                    latest = Some(v);
                    // the twin follows, in the remote policy's group
                    if let Some(t) = cur.remote_device_id.clone().filter(|_| cur.is_replicated())
                        && let Err(e) = async {
                            let remote = d.remote().await?;
                            let mut rp = np.clone();
                            rp.srp = remote.settings.srp.clone();
                            remote.retype(&o, &t, &rp).await
                        }
                        .await
                    {
                        report(diags, "Cannot change the remote twin's storage policy", &e);
                        return self.value(&cur, diags);
                    }
                }
                Err(e) => {
                    report(diags, "Cannot change the volume's storage policy", &e);
                    if let Ok(Some(v)) = d.get_volume(&dev).await {
                        cur.refresh(&v, d.array(), &srp);
                    }
                    return self.value(&cur, diags);
                }
            }
        }
        if !cur.is_replicated() && new.is_replicated() {
            let o = op(ctx, format!("replicating volume {dev}"), limit);
            match d.enable_replication(&o, &dev, &new.policy(&srp)).await {
                Ok(pair) => {
                    cur.set_pair(Some(&pair));
                    latest = None;
                }
                Err(e) => {
                    report(diags, "Cannot replicate volume", &e);
                    return self.value(&cur, diags);
                }
            }
        }
        if cur.is_replicated() && cur.wants_remote() != new.wants_remote() {
            let side = if new.wants_remote() {
                Side::Remote
            } else {
                Side::Local
            };
            let o = op(
                ctx,
                format!("failing volume {dev} over to the {} array", side.as_str()),
                limit,
            );
            match d.set_active_side(&o, &dev, side).await {
                Ok(pair) => cur.set_pair(Some(&pair)),
                Err(e) => {
                    report(diags, "Cannot change the volume's active side", &e);
                    if let Ok(pair) = d.pair(&dev).await {
                        cur.set_pair(pair.as_ref());
                    }
                    return self.value(&cur, diags);
                }
            }
        } else if cur.is_replicated() && cur.replication_state != old.replication_state {
            // nothing to do for the pair
        }
        // a retype says where the volume is now; a rename or an extend that
        // the array confirmed changes only what `cur` already records
        let now = match latest {
            Some(v) => Ok(Some(v)),
            None if cur.size_gb != old.size_gb
                || cur.name != old.name
                || cur.volume_identifier != old.volume_identifier
                || cur.replicated != old.replicated
                || cur.replication_active_side != old.replication_active_side =>
            {
                if cur.replicated != old.replicated {
                    match d.get_volume(&dev).await {
                        Ok(Some(v)) => cur.refresh(&v, d.array(), &srp),
                        Ok(None) => {}
                        Err(e) => report(diags, "Cannot read volume after update", &e),
                    }
                }
                record_applied_size(ctx, cur.size_gb);
                return self.value(&keep_planned(cur, &new), diags);
            }
            None => d.get_volume(&dev).await,
        };
        match now {
            Ok(Some(v)) => {
                cur.refresh(&v, d.array(), &srp);
                record_applied_size(ctx, cur.size_gb);
            }
            Ok(None) => diags.error(
                "Volume vanished",
                format!("volume {dev} no longer exists on the array"),
            ),
            Err(e) => report(diags, "Cannot read volume after update", &e),
        }
        // the pair as the array has it (a state the plan left unknown)
        if cur.is_replicated()
            && new.replication_state.is_none()
            && let Ok(pair) = d.pair(&dev).await
        {
            cur.set_pair(pair.as_ref());
        }
        self.value(&keep_planned(cur, &new), diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags) {
        let Some(d) = self.shared.driver(diags) else {
            return;
        };
        let Some(s) = self.state(prior, diags) else {
            return;
        };
        let Some(dev) = s.id.clone() else { return };
        let limit = timeout_of(&s.timeouts, |t| &t.delete);
        if s.deletion_policy == "unmanage" {
            // leave the volume and its data; drop the managed prefix
            let bare =
                naming::name_from_identifier(s.volume_identifier.as_deref().unwrap_or(&s.name))
                    .to_string();
            match d
                .unmanage_volume(
                    &op(ctx, format!("unmanaging volume {dev}"), limit),
                    &dev,
                    &bare,
                )
                .await
            {
                Ok(()) => {
                    tracing::info!(device = %dev, name = %bare, "volume unmanaged and left on the array");
                    if s.is_replicated() {
                        diags.warning(
                            "Replicated volume left paired",
                            format!(
                                "volume {dev} was unmanaged; its RDF pair and its twin {} on array {} are left as they are",
                                s.remote_device_id.as_deref().unwrap_or("?"),
                                d.replication().map(|r| r.remote_array.as_str()).unwrap_or("?")
                            ),
                        );
                    }
                }
                Err(e) => report(diags, "Cannot unmanage volume", &e),
            }
            return;
        }
        let o = op(ctx, format!("deleting volume {dev}"), limit);
        let r = if s.is_replicated() {
            d.delete_replicated(&o, &dev).await
        } else {
            d.delete_volume(&o, &dev).await
        };
        match r {
            Ok(()) => d.journal.forget_device(d.array(), &dev),
            Err(e) => report(diags, "Cannot delete volume", &e),
        }
    }

    async fn read(&self, _ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let mut s = self.state(current, diags)?;
        let dev = s.id.clone()?;
        match d.refresh_volume(&dev).await {
            Ok(Some(v)) => {
                // Terraform has recorded it: the create journal can let go
                d.journal.forget_device(d.array(), &dev);
                s.refresh(&v, d.array(), &d.settings.srp);
                // the pair of a replicated volume as the array has it
                if s.is_replicated() {
                    match d.pair(&dev).await {
                        Ok(p) => s.set_pair(p.as_ref()),
                        Err(e) => report(diags, "Cannot read the volume's RDF pair", &e),
                    }
                }
                Some(self.value(&s, diags))
            }
            Ok(None) => {
                tracing::warn!(device = %dev, "volume no longer exists; removing it from state");
                None
            }
            Err(e) => {
                report(diags, "Cannot read volume", &e);
                Some(current.clone())
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let dev = id.trim().to_ascii_uppercase();
        if !(dev.len() == 5 && dev.chars().all(|c| c.is_ascii_hexdigit())) {
            diags.error("Invalid import id", format!("import a vmax_volume by its device id, five hex digits such as 0001A, not {id:?}"));
            return None;
        }
        let mut v = match d.volume_in_one_read(&dev).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                diags.error("Cannot import volume", format!("Unable to manage existing volume: device {dev} does not exist on array {}.", d.array()));
                return None;
            }
            Err(e) => {
                report(diags, "Cannot import volume", &e);
                return None;
            }
        };
        if !v.masking_views.is_empty() {
            let views = v.masking_views.join(", ");
            let ours = v.masking_views.iter().all(|mv| {
                mv.starts_with(naming::MANAGED_PREFIX) && mv.contains("-I-") && mv.ends_with("-MV")
            });
            let what = if ours {
                format!(
                    "Device {dev} is in masking view {views}, named the way this provider names its exports: it is most likely managed by another Terraform state (or by OpenStack). Manage it there, or move it between states with `terraform state mv`; to take it over here, remove its exports (terraform destroy of those vmax_iscsi_export resources, or detach it in OpenStack), import the volume, then export it again with vmax_iscsi_export."
                )
            } else {
                format!(
                    "Device {dev} is in masking view {views}, which this provider did not make: it never takes over another tool's views. Remove the volume from that view with the tool that made it (hosts lose access), import the volume, then export it with vmax_iscsi_export."
                )
            };
            diags.error(
                "Cannot import volume",
                format!("Unable to manage existing volume. {what}"),
            );
            return None;
        }
        if v.snapvx_source || v.snapvx_target {
            diags.error("Cannot import volume", format!("Unable to manage existing volume: device {dev} is in a SnapVX session; terminate the session first."));
            return None;
        }
        if v.size_gb.fract() != 0.0 {
            diags.error("Cannot import volume", format!("Unable to manage existing volume: device {dev} is {} GB, not a whole number of GB.", v.size_gb));
            return None;
        }
        if v.identifier
            .as_deref()
            .is_some_and(|i| i.starts_with(naming::MANAGED_PREFIX))
        {
            diags.warning(
                "Volume already carries the OS- prefix",
                format!("Device {dev} is named {:?}, which marks it as managed (by OpenStack or another Terraform state). Make sure nothing else manages it.", v.identifier.as_deref().unwrap_or("")),
            );
        }
        // its group's limits and compression
        if let Err(e) = d.read_settings(&mut v).await {
            report(diags, "Cannot import volume", &e);
            return None;
        }
        let mut s = VolumeState {
            // an imported volume holds data someone else made: destroying
            // it leaves it (renamed back) unless the configuration says delete
            deletion_policy: "unmanage".into(),
            wait_for_copy: Some(false),
            // disabled compression is a choice worth keeping; the array's
            // default is left unset
            compression: v
                .policy
                .as_ref()
                .and_then(|p| (p.compression == Compression::Off).then_some(false)),
            ..Default::default()
        };
        s.refresh(&v, d.array(), &d.settings.srp);
        // a replicated volume is recognised by its pair
        if d.replication().is_some() {
            match d.pair(&dev).await {
                Ok(p) => s.set_pair(p.as_ref()),
                Err(e) => {
                    report(diags, "Cannot import volume", &e);
                    return None;
                }
            }
        } else {
            s.set_pair(None);
        }
        if s.name.is_empty() {
            s.name = format!("vol-{dev}");
        }
        // what the volume will be called once managed; the first apply renames it
        s.volume_identifier = v.identifier.clone();
        let home = s.policy(&d.settings.srp).default_storage_group();
        if v.identifier.as_deref() != Some(naming::volume_identifier(&s.name).as_str())
            || s.storage_group.as_deref() != Some(home.as_str())
        {
            diags.warning(
                "The first apply changes the imported volume",
                format!(
                    "Volume {dev} is imported as is. The first apply renames it to {} (the managed prefix) and moves it into its policy's group {home}; its data is untouched. The imported state has deletion_policy = \"unmanage\": destroying it leaves it on the array unless the configuration says deletion_policy = \"delete\".",
                    naming::volume_identifier(&s.name)
                ),
            );
        }
        Some(self.value(&s, diags))
    }

    fn upgrade(
        &self,
        version: i64,
        raw: serde_json::Value,
        diags: &mut Diags,
    ) -> Option<serde_json::Value> {
        match version {
            // version 0 had `size` instead of `size_gb` and no deletion_policy
            0 => {
                let mut m = raw.as_object().cloned().unwrap_or_default();
                if let Some(s) = m.remove("size") {
                    m.insert("size_gb".into(), s);
                }
                m.entry("deletion_policy")
                    .or_insert_with(|| "delete".into());
                Some(serde_json::Value::Object(m))
            }
            1 => Some(raw),
            v => {
                diags.error("Unsupported state version", format!("vmax_volume state version {v} is newer than this provider; upgrade the provider"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(
            parse_duration("2m3.5s"),
            Some(Duration::from_millis(123_500))
        );
        assert_eq!(parse_duration("100us"), Some(Duration::from_micros(100)));
        for bad in ["10", "5x", "", "-1m", "0s", "1h-", "m", "1.2.3s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn config_errors_carry_paths() {
        let cfg = Value::Object(
            [
                ("name".to_string(), Value::string("")),
                ("size_gb".to_string(), Value::int(0)),
                ("service_level".to_string(), Value::string("None")),
                ("workload".to_string(), Value::string("DSS")),
                ("deletion_policy".to_string(), Value::string("keep")),
            ]
            .into_iter()
            .collect(),
        );
        let mut d = Diags::default();
        validate_config(&cfg, &mut d);
        // deletion_policy is the schema's own check (run by the plugin layer)
        crate::tfplugin::server::run_validators(&schema().block, &cfg, &AttrPath(vec![]), &mut d);
        let paths: Vec<String> = d.0.iter().map(|x| format!("{:?}", x.path)).collect();
        assert_eq!(d.0.len(), 4, "{paths:?}");
    }

    #[test]
    fn enumerations_take_their_canonical_spelling() {
        let check = |slo: &str, wl: Option<&str>| {
            let mut m = vec![
                ("name".to_string(), Value::string("v")),
                ("service_level".to_string(), Value::string(slo)),
            ];
            if let Some(w) = wl {
                m.push(("workload".to_string(), Value::string(w)));
            }
            let mut d = Diags::default();
            validate_config(&Value::Object(m.into_iter().collect()), &mut d);
            d.0.iter().map(|x| x.detail.clone()).collect::<Vec<_>>()
        };
        assert!(check("Diamond", Some("DSS")).is_empty());
        assert!(check("None", None).is_empty());
        for bad in ["none", "NONE", "diamond"] {
            let e = check(bad, None);
            assert_eq!(e.len(), 1, "{bad}: {e:?}");
            assert!(e[0].contains("must be written"), "{e:?}");
        }
        assert!(check("", None)[0].contains("\"None\""));
        assert!(check("Gold", Some("dss"))[0].contains("\"DSS\""));
        assert!(check("Gold", Some("None"))[0].contains("omit workload"));
        // a level the list does not know is left to the array's list at plan time
        assert!(check("Titanium", None).is_empty());
    }

    #[test]
    fn upgrade_from_v0_renames_size() {
        let r = VolumeResource::new(Arc::new(Shared::default()));
        let mut d = Diags::default();
        let out = r
            .upgrade(0, serde_json::json!({"size": 5, "name": "a"}), &mut d)
            .unwrap();
        assert_eq!(out["size_gb"], 5);
        assert_eq!(out["deletion_policy"], "delete");
    }
}
