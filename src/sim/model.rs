//! The simulated arrays: pure state and the rules a real VMAX enforces.
//!
//! Nothing here does I/O or reads a clock: every operation that depends on
//! time takes `now_ms`. The HTTP layer (`sim::http`) turns requests into
//! calls on [`World`] and renders the answers in each API version's shape.
//! Every refusal is a [`SimError`] whose message says what to do.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A refusal, rendered as `{"message": ...}` with this HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    pub status: u16,
    pub message: String,
}

impl SimError {
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: m.into(),
        }
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self {
            status: 404,
            message: m.into(),
        }
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self {
            status: 409,
            message: m.into(),
        }
    }
}

pub type SimResult<T> = Result<T, SimError>;

/// Largest number of devices a storage group may hold.
pub const MAX_DEVICES_PER_SG: usize = 4000;

/// Everything the simulator knows; this is what is persisted.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct World {
    pub arrays: BTreeMap<String, Array>,
    pub jobs: BTreeMap<String, Job>,
    pub next_job_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Array {
    pub symmetrix_id: String,
    pub model: String,
    pub ucode: String,
    pub slos: Vec<String>,
    pub workloads: Vec<String>,
    pub srps: BTreeMap<String, Srp>,
    #[serde(default)]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(default)]
    pub storage_groups: BTreeMap<String, StorageGroup>,
    #[serde(default)]
    pub hosts: BTreeMap<String, Host>,
    #[serde(default)]
    pub port_groups: BTreeMap<String, PortGroup>,
    /// Director ports keyed `<director>:<port>`, e.g. `SE-1E:0`.
    #[serde(default)]
    pub ports: BTreeMap<String, Port>,
    #[serde(default)]
    pub masking_views: BTreeMap<String, MaskingView>,
    #[serde(default)]
    pub snapshots: Vec<Snapshot>,
    #[serde(default = "first_device")]
    pub next_device: u32,
    /// Whether the workload planner has data (real arrays: generally
    /// yes); without it, headroom queries answer without figures (except
    /// the seed file's own `headroom_gb` entries).
    #[serde(default = "yes")]
    pub wlp: bool,
    /// All Flash arrays compress (VMAX250F, PowerMax); hybrid ones do not.
    #[serde(default = "yes")]
    pub compression_capable: bool,
    /// Whether this Unisphere is attached to the array (`local`); the
    /// other side of an SRDF link is managed remotely.
    #[serde(default = "yes")]
    pub local: bool,
    /// RDF groups by number (as a string, for JSON).
    #[serde(default)]
    pub rdf_groups: BTreeMap<String, super::rdf::RdfGroup>,
}

/// A large, stable snap id; unlike a generation it never shifts. The
/// members of one storage-group snapshot (one `seq`) share it.
fn snap_id_for(name: &str, seq: u64) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes().chain(seq.to_le_bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    h % 281_474_976_710_656
}

fn first_device() -> u32 {
    0x00100
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Srp {
    pub srp_id: String,
    pub total_usable_cap_gb: f64,
    pub reserved_cap_percent: u32,
    /// Capacity used by things the simulator does not model (other hosts).
    #[serde(default)]
    pub base_allocated_gb: f64,
    #[serde(default)]
    pub base_subscribed_gb: f64,
    /// Workload-planner headroom per `<slo>+<workload>` key; keys not
    /// listed get a figure derived from the free capacity.
    #[serde(default)]
    pub headroom_gb: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Volume {
    pub volume_id: String,
    pub identifier: Option<String>,
    pub cap_mb: u64,
    pub allocated_percent: u32,
    pub wwn: String,
    pub srp: String,
    /// When the volume was made (for simulated read-after-write lag).
    #[serde(default)]
    pub created_ms: u64,
    /// Its side of an SRDF pair.
    #[serde(default)]
    pub rdf: Option<super::rdf::RdfLink>,
}

impl Volume {
    pub fn cap_gb(&self) -> f64 {
        self.cap_mb as f64 / 1024.0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct HostIoLimit {
    pub host_io_limit_mb_sec: Option<String>,
    pub host_io_limit_io_sec: Option<String>,
    pub dynamic_distribution: String,
}

impl HostIoLimit {
    /// One value as a number; `None` for `NOLIMIT` (or absent).
    fn value(v: &Option<String>) -> Option<f64> {
        v.as_deref().and_then(|s| s.parse::<f64>().ok())
    }
}

/// The array's rule for cascaded groups: a child's host I/O limits cannot
/// exceed its parent's (a child without a limit is bounded by the parent).
fn check_cascade(
    parent: &str,
    p: Option<&HostIoLimit>,
    child: &str,
    c: Option<&HostIoLimit>,
) -> SimResult<()> {
    let (Some(p), Some(c)) = (p, c) else {
        return Ok(());
    };
    for (what, pv, cv) in [
        (
            "host_io_limit_io_sec",
            &p.host_io_limit_io_sec,
            &c.host_io_limit_io_sec,
        ),
        (
            "host_io_limit_mb_sec",
            &p.host_io_limit_mb_sec,
            &c.host_io_limit_mb_sec,
        ),
    ] {
        if let (Some(pl), Some(cl)) = (HostIoLimit::value(pv), HostIoLimit::value(cv))
            && cl > pl
        {
            return Err(SimError::bad_request(format!(
                "The {what} of child storage group {child} ({cl}) cannot exceed that of its parent storage group {parent} ({pl})"
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct StorageGroup {
    pub id: String,
    pub srp: Option<String>,
    pub slo: Option<String>,
    pub workload: Option<String>,
    pub compression: bool,
    /// Volumes that sit directly in this group.
    pub volumes: BTreeSet<String>,
    pub children: BTreeSet<String>,
    pub parents: BTreeSet<String>,
    pub host_io_limit: Option<HostIoLimit>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Host {
    pub id: String,
    pub initiators: Vec<String>,
    /// Host LUN per visible device; kept while the device stays visible.
    #[serde(default)]
    pub luns: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortKey {
    pub director: String,
    pub port: String,
}

impl PortKey {
    pub fn key(&self) -> String {
        format!("{}:{}", self.director, self.port)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortGroup {
    pub id: String,
    pub ports: Vec<PortKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Port {
    pub key: PortKey,
    pub iqn: String,
    pub ip_addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaskingView {
    pub id: String,
    pub host: String,
    pub port_group: String,
    pub storage_group: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    pub target: String,
    pub copy: bool,
    pub linked_ms: u64,
}

/// One generation of a SnapVX snapshot of one source device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: String,
    pub name: String,
    pub created_ms: u64,
    /// Orders generations: higher is newer.
    pub seq: u64,
    pub links: Vec<Link>,
    /// The array's id of this snapshot (PowerMax 5978.669 and later only).
    #[serde(default)]
    pub snap_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub job_id: String,
    pub name: String,
    pub username: String,
    pub outcome: JobOutcome,
    pub result: String,
    pub resource_link: String,
    pub task: String,
    pub created_ms: u64,
    pub duration_ms: u64,
}

impl Job {
    /// The job's status as Unisphere reports it `now_ms`.
    pub fn status(&self, now_ms: u64) -> &'static str {
        let elapsed = now_ms.saturating_sub(self.created_ms);
        if elapsed >= self.duration_ms {
            match self.outcome {
                JobOutcome::Succeeded => "SUCCEEDED",
                JobOutcome::Failed => "FAILED",
            }
        } else if elapsed * 4 < self.duration_ms {
            "SCHEDULED"
        } else if elapsed * 2 < self.duration_ms {
            "VALIDATED"
        } else {
            "RUNNING"
        }
    }
}

/// Names of storage groups, hosts, masking views, port groups.
pub fn check_object_name(kind: &str, name: &str) -> SimResult<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(SimError::bad_request(format!(
            "The {kind} name '{name}' must be 1 to 64 characters long"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(SimError::bad_request(format!(
            "The {kind} name '{name}' contains the invalid character '{c}'; use only letters, digits, '_' and '-'"
        )));
    }
    Ok(())
}

pub fn check_volume_identifier(name: &str) -> SimResult<()> {
    if name.len() > 64 || name.chars().any(|c| !(' '..='~').contains(&c)) {
        return Err(SimError::bad_request(format!(
            "The volume identifier '{name}' must be at most 64 printable ASCII characters"
        )));
    }
    Ok(())
}

pub fn check_snapshot_name(name: &str) -> SimResult<()> {
    if name.is_empty()
        || name.len() > 32
        || name
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(SimError::bad_request(format!(
            "The snapshot name '{name}' must be 1 to 32 characters of letters, digits, '_' and '-'"
        )));
    }
    Ok(())
}

/// Parameters of a new storage group.
#[derive(Debug, Clone, Default)]
pub struct NewStorageGroup {
    pub id: String,
    pub srp: Option<String>,
    pub slo: Option<String>,
    pub workload: Option<String>,
    /// The request's `noCompression` (compression-capable arrays only).
    pub no_compression: bool,
}

impl Array {
    /// A fresh array with the given serial and no objects.
    pub fn new(serial: &str, model: &str, ucode: &str) -> Self {
        Array {
            symmetrix_id: serial.to_string(),
            model: model.to_string(),
            ucode: ucode.to_string(),
            slos: vec![],
            workloads: vec![],
            srps: BTreeMap::new(),
            volumes: BTreeMap::new(),
            storage_groups: BTreeMap::new(),
            hosts: BTreeMap::new(),
            port_groups: BTreeMap::new(),
            ports: BTreeMap::new(),
            masking_views: BTreeMap::new(),
            snapshots: vec![],
            next_device: first_device(),
            wlp: true,
            compression_capable: true,
            local: true,
            rdf_groups: BTreeMap::new(),
        }
    }

    // ---- lookups -------------------------------------------------------

    pub fn sg(&self, id: &str) -> SimResult<&StorageGroup> {
        self.storage_groups
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Storage Group {id}")))
    }

    fn sg_mut(&mut self, id: &str) -> SimResult<&mut StorageGroup> {
        self.storage_groups
            .get_mut(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Storage Group {id}")))
    }

    pub fn volume_mut(&mut self, id: &str) -> SimResult<&mut Volume> {
        self.volumes
            .get_mut(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Volume {id}")))
    }

    pub fn volume(&self, id: &str) -> SimResult<&Volume> {
        self.volumes
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Could not find volume {id}")))
    }

    pub fn host(&self, id: &str) -> SimResult<&Host> {
        self.hosts
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Host {id}")))
    }

    pub fn port_group(&self, id: &str) -> SimResult<&PortGroup> {
        self.port_groups
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Port Group {id}")))
    }

    pub fn masking_view(&self, id: &str) -> SimResult<&MaskingView> {
        self.masking_views
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Masking View {id}")))
    }

    pub fn srp(&self, id: &str) -> SimResult<&Srp> {
        self.srps
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find SRP {id}")))
    }

    /// Groups a volume sits in directly.
    pub fn groups_of_volume(&self, dev: &str) -> Vec<String> {
        self.storage_groups
            .values()
            .filter(|g| g.volumes.contains(dev))
            .map(|g| g.id.clone())
            .collect()
    }

    /// Volumes of a group and of its children.
    pub fn volumes_in_sg_deep(&self, id: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(g) = self.storage_groups.get(id) {
            out.extend(g.volumes.iter().cloned());
            for c in &g.children {
                if let Some(cg) = self.storage_groups.get(c) {
                    out.extend(cg.volumes.iter().cloned());
                }
            }
        }
        out
    }

    /// Masking views a group is in, directly or through its parents.
    pub fn views_of_sg(&self, id: &str) -> Vec<String> {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(id);
        if let Some(g) = self.storage_groups.get(id) {
            names.extend(g.parents.iter().map(String::as_str));
        }
        self.masking_views
            .values()
            .filter(|v| names.contains(v.storage_group.as_str()))
            .map(|v| v.id.clone())
            .collect()
    }

    pub fn host_of_initiator(&self, initiator: &str) -> Option<&Host> {
        self.hosts.values().find(|h| {
            h.initiators
                .iter()
                .any(|i| i.eq_ignore_ascii_case(initiator))
        })
    }

    pub fn snapshots_of(&self, dev: &str) -> impl Iterator<Item = &Snapshot> {
        self.snapshots.iter().filter(move |s| s.source == dev)
    }

    /// Whether snapshots have snap ids: PowerMax microcode 5978.669 and later.
    pub fn has_snap_ids(&self) -> bool {
        let mut p = self.ucode.split('.');
        let major: u32 = p.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        let minor: u32 = p.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        major > 5978 || (major == 5978 && minor >= 669)
    }

    /// The generation of the snapshot `name` of `source` that has `snap_id`.
    pub fn generation_of_snap_id(&self, name: &str, source: &str, snap_id: u64) -> SimResult<u32> {
        if !self.has_snap_ids() {
            return Err(SimError::bad_request(format!(
                "snap_id is not supported by array {} (microcode {}); name the snapshot by generation",
                self.symmetrix_id, self.ucode
            )));
        }
        self.snapshots
            .iter()
            .find(|s| s.source == source && s.name == name && s.snap_id == Some(snap_id))
            .map(|s| self.generation(s))
            .ok_or_else(|| {
                SimError::not_found(format!(
                    "Cannot find snapshot {name} of volume {source} with snap_id {snap_id}"
                ))
            })
    }

    /// Generation number of a snapshot: 0 is the newest of its name on its source.
    pub fn generation(&self, snap: &Snapshot) -> u32 {
        self.snapshots
            .iter()
            .filter(|s| s.source == snap.source && s.name == snap.name && s.seq > snap.seq)
            .count() as u32
    }

    /// The snapshot generations (source, name) that link this target.
    pub fn links_to_target(&self, dev: &str) -> Vec<&Snapshot> {
        self.snapshots
            .iter()
            .filter(|s| s.links.iter().any(|l| l.target == dev))
            .collect()
    }

    pub fn is_snapvx_source(&self, dev: &str) -> bool {
        self.snapshots.iter().any(|s| s.source == dev)
    }

    pub fn is_snapvx_target(&self, dev: &str) -> bool {
        !self.links_to_target(dev).is_empty()
    }

    /// Allocated and subscribed GB of an SRP.
    /// Workload-planner headroom in GB for a service level and workload:
    /// the seed file's figure; else, where the planner has data (`wlp`),
    /// the usable capacity scaled by how much performance the level
    /// reserves; else `None`.
    pub fn headroom(&self, srp: &str, slo: &str, workload: &str) -> Option<f64> {
        let s = self.srps.get(srp)?;
        if let Some(h) = s.headroom_gb.get(&format!("{slo}+{workload}")) {
            return Some(*h);
        }
        if !self.wlp {
            return None;
        }
        let factor = match slo {
            "Diamond" => 0.80,
            "Platinum" => 0.85,
            "Gold" => 0.90,
            "Silver" => 0.95,
            _ => 1.0,
        } * if workload.ends_with("_REP") { 0.9 } else { 1.0 };
        Some((s.total_usable_cap_gb * factor * 100.0).round() / 100.0)
    }

    pub fn srp_usage(&self, srp: &str) -> (f64, f64) {
        let Some(s) = self.srps.get(srp) else {
            return (0.0, 0.0);
        };
        let mut allocated = s.base_allocated_gb;
        let mut subscribed = s.base_subscribed_gb;
        for v in self.volumes.values().filter(|v| v.srp == srp) {
            subscribed += v.cap_gb();
            allocated += v.cap_gb() * v.allocated_percent as f64 / 100.0;
        }
        (allocated, subscribed)
    }

    fn check_capacity(&self, srp: &str, extra_gb: f64) -> SimResult<()> {
        let s = self.srp(srp)?;
        let (allocated, _) = self.srp_usage(srp);
        let free = s.total_usable_cap_gb - allocated;
        if extra_gb > free {
            return Err(SimError::bad_request(format!(
                "Insufficient capacity in SRP {srp}: {extra_gb:.2} GB requested, {free:.2} GB free"
            )));
        }
        Ok(())
    }

    pub fn default_srp(&self) -> String {
        self.srps.keys().next().cloned().unwrap_or_default()
    }

    // ---- storage groups ------------------------------------------------

    pub fn create_storage_group(&mut self, p: NewStorageGroup) -> SimResult<()> {
        check_object_name("storage group", &p.id)?;
        if self.storage_groups.contains_key(&p.id) {
            return Err(SimError::conflict(format!(
                "A storage group named {} already exists",
                p.id
            )));
        }
        let srp = p.srp.filter(|s| !s.eq_ignore_ascii_case("none"));
        if let Some(s) = &srp {
            self.srp(s)?;
        }
        let slo = p.slo.filter(|s| !s.eq_ignore_ascii_case("none"));
        let workload = p.workload.filter(|s| !s.eq_ignore_ascii_case("none"));
        if let Some(slo) = &slo {
            if srp.is_none() {
                return Err(SimError::bad_request(
                    "A service level needs an SRP; set srpId to one of the array's SRPs",
                ));
            }
            self.check_slo(slo)?;
        }
        if let Some(w) = &workload {
            if slo.is_none() {
                return Err(SimError::bad_request(
                    "A workload type needs a service level; set sloId too",
                ));
            }
            self.check_workload(w)?;
        }
        // only an array that compresses takes a choice about it; there a
        // group with a service level compresses unless told not to
        if p.no_compression && !self.compression_capable {
            return Err(SimError::bad_request(format!(
                "noCompression is not valid: array {} is not compression capable",
                self.symmetrix_id
            )));
        }
        let compression = self.compression_capable && slo.is_some() && !p.no_compression;
        self.storage_groups.insert(
            p.id.clone(),
            StorageGroup {
                id: p.id,
                srp,
                slo,
                workload,
                compression,
                ..Default::default()
            },
        );
        Ok(())
    }

    fn check_slo(&self, slo: &str) -> SimResult<()> {
        if !self.slos.iter().any(|s| s == slo) {
            return Err(SimError::bad_request(format!(
                "Service level {slo} is not valid on array {}; valid service levels are: {}",
                self.symmetrix_id,
                self.slos.join(", ")
            )));
        }
        Ok(())
    }

    fn check_workload(&self, w: &str) -> SimResult<()> {
        if !self.workloads.iter().any(|s| s == w) {
            return Err(SimError::bad_request(format!(
                "Workload {w} is not valid on array {}; valid workloads are: {}",
                self.symmetrix_id,
                if self.workloads.is_empty() {
                    "none (this array has no workload types)".to_string()
                } else {
                    self.workloads.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// Deletes a storage group. A parent that still has children: up to
    /// API 92 (Unisphere 8.4-9.2) the array accepts it and the children
    /// stay as standalone groups (`children_stay`); from API 100 it refuses.
    pub fn delete_storage_group(&mut self, id: &str, children_stay: bool) -> SimResult<()> {
        let g = self.sg(id)?;
        let views: Vec<String> = self
            .masking_views
            .values()
            .filter(|v| v.storage_group == id)
            .map(|v| v.id.clone())
            .collect();
        if !views.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {id} is in masking view {}; delete the masking view first",
                views.join(", ")
            )));
        }
        if !g.children.is_empty() && !children_stay {
            return Err(SimError::bad_request(format!(
                "Storage group {id} is a parent of {}; remove its child storage groups first",
                g.children.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let children: Vec<String> = g.children.iter().cloned().collect();
        let parents: Vec<String> = g.parents.iter().cloned().collect();
        for c in children {
            if let Some(cg) = self.storage_groups.get_mut(&c) {
                cg.parents.remove(id);
            }
        }
        for p in parents {
            if let Some(pg) = self.storage_groups.get_mut(&p) {
                pg.children.remove(id);
            }
        }
        self.storage_groups.remove(id);
        self.refresh_luns();
        Ok(())
    }

    /// SLO-bearing groups a volume is in, other than `except`.
    fn slo_groups_of(&self, dev: &str, except: Option<&str>) -> Vec<String> {
        self.storage_groups
            .values()
            .filter(|g| g.slo.is_some() && g.volumes.contains(dev) && Some(g.id.as_str()) != except)
            .map(|g| g.id.clone())
            .collect()
    }

    fn check_can_hold_volumes(&self, sg: &str, adding: usize) -> SimResult<()> {
        let g = self.sg(sg)?;
        if !g.children.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {sg} is a parent storage group; add volumes to one of its child storage groups"
            )));
        }
        if g.volumes.len() + adding > MAX_DEVICES_PER_SG {
            return Err(SimError::bad_request(format!(
                "The maximum allowed devices for a storage group has been exceeded: {sg} holds {} of {MAX_DEVICES_PER_SG}",
                g.volumes.len()
            )));
        }
        Ok(())
    }

    /// Creates `count` volumes of `size_mb` in `sg`; returns their device ids.
    pub fn create_volumes(
        &mut self,
        sg: &str,
        count: u32,
        size_mb: u64,
        identifier: Option<String>,
    ) -> SimResult<Vec<String>> {
        self.create_volumes_at(sg, count, size_mb, identifier, 0)
    }

    /// [`Array::create_volumes`] recording the creation time.
    pub fn create_volumes_at(
        &mut self,
        sg: &str,
        count: u32,
        size_mb: u64,
        identifier: Option<String>,
        now_ms: u64,
    ) -> SimResult<Vec<String>> {
        if count == 0 {
            return Err(SimError::bad_request("num_of_vols must be at least 1"));
        }
        if size_mb == 0 {
            return Err(SimError::bad_request("volume_size must be greater than 0"));
        }
        if let Some(i) = &identifier {
            check_volume_identifier(i)?;
        }
        self.check_can_hold_volumes(sg, count as usize)?;
        let g = self.sg(sg)?;
        let srp = g.srp.clone().unwrap_or_else(|| self.default_srp());
        // a thin volume must fit the pool's free space, and the pool may be
        // subscribed up to 10x its usable capacity
        self.check_capacity(&srp, size_mb as f64 / 1024.0)?;
        let (_, subscribed) = self.srp_usage(&srp);
        let usable = self.srp(&srp)?.total_usable_cap_gb;
        let extra = size_mb as f64 / 1024.0 * count as f64;
        // thin pools may be oversubscribed, but not beyond 10x
        if subscribed + extra > usable * 10.0 {
            return Err(SimError::bad_request(format!(
                "Insufficient capacity in SRP {srp}: subscribing {extra:.2} GB more would exceed the pool's subscription limit"
            )));
        }
        let mut ids = Vec::new();
        for _ in 0..count {
            if self.next_device > 0xFFFFF {
                return Err(SimError::bad_request(
                    "The array has no free device numbers",
                ));
            }
            let id = format!("{:05X}", self.next_device);
            self.next_device += 1;
            let wwn = format!(
                "60000970{}{}",
                self.symmetrix_id,
                hex::encode_upper(format!("S{id}"))
            );
            self.volumes.insert(
                id.clone(),
                Volume {
                    volume_id: id.clone(),
                    identifier: identifier.clone(),
                    cap_mb: size_mb,
                    allocated_percent: 0,
                    wwn,
                    srp: srp.clone(),
                    created_ms: now_ms,
                    rdf: None,
                },
            );
            ids.push(id);
        }
        let g = self.sg_mut(sg)?;
        g.volumes.extend(ids.iter().cloned());
        self.refresh_luns();
        Ok(ids)
    }

    pub fn add_volumes(&mut self, sg: &str, devs: &[String]) -> SimResult<()> {
        self.check_can_hold_volumes(sg, devs.len())?;
        let target_has_slo = self.sg(sg)?.slo.is_some();
        for d in devs {
            self.volume(d)?;
            if target_has_slo {
                let others = self.slo_groups_of(d, Some(sg));
                if !others.is_empty() {
                    return Err(SimError::bad_request(format!(
                        "Volume {d} is already in storage group {} which has a service level; a volume can be in only one such group (move it instead)",
                        others.join(", ")
                    )));
                }
            }
        }
        let g = self.sg_mut(sg)?;
        g.volumes.extend(devs.iter().cloned());
        self.refresh_luns();
        Ok(())
    }

    pub fn remove_volumes(&mut self, sg: &str, devs: &[String]) -> SimResult<()> {
        let g = self.sg(sg)?;
        for d in devs {
            if !g.volumes.contains(d) {
                return Err(SimError::bad_request(format!(
                    "Volume {d} is not in storage group {sg}"
                )));
            }
        }
        let g = self.sg_mut(sg)?;
        for d in devs {
            g.volumes.remove(d);
        }
        self.refresh_luns();
        Ok(())
    }

    /// Moves volumes between two groups in one step (9.0 and later).
    pub fn move_volumes(&mut self, from: &str, devs: &[String], to: &str) -> SimResult<()> {
        if from == to {
            return Err(SimError::bad_request(
                "The source and target storage groups of a move must differ",
            ));
        }
        let src = self.sg(from)?;
        for d in devs {
            if !src.volumes.contains(d) {
                return Err(SimError::bad_request(format!(
                    "Volume {d} is not in storage group {from}"
                )));
            }
        }
        self.check_can_hold_volumes(to, devs.len())?;
        let target_has_slo = self.sg(to)?.slo.is_some();
        if target_has_slo {
            for d in devs {
                let others: Vec<String> = self
                    .slo_groups_of(d, Some(to))
                    .into_iter()
                    .filter(|g| g != from)
                    .collect();
                if !others.is_empty() {
                    return Err(SimError::bad_request(format!(
                        "Volume {d} is also in storage group {} which has a service level",
                        others.join(", ")
                    )));
                }
            }
        }
        let srp_to = self.sg(to)?.srp.clone();
        for d in devs {
            let v = self.volume(d)?;
            if let Some(s) = &srp_to
                && *s != v.srp
            {
                return Err(SimError::bad_request(format!(
                    "Volume {d} is in SRP {} and cannot move to storage group {to} in SRP {s}",
                    v.srp
                )));
            }
        }
        for d in devs {
            self.sg_mut(from)?.volumes.remove(d);
            self.sg_mut(to)?.volumes.insert(d.clone());
        }
        self.refresh_luns();
        Ok(())
    }

    pub fn add_child(&mut self, parent: &str, child: &str) -> SimResult<()> {
        if parent == child {
            return Err(SimError::bad_request(
                "A storage group cannot be its own child",
            ));
        }
        let p = self.sg(parent)?;
        let c = self.sg(child)?;
        if !p.volumes.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {parent} holds volumes directly and cannot become a parent"
            )));
        }
        if !p.parents.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {parent} is itself a child; cascading is one level deep"
            )));
        }
        if !c.children.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {child} is a parent and cannot become a child"
            )));
        }
        if !c.parents.is_empty() && !c.parents.contains(parent) {
            return Err(SimError::bad_request(format!(
                "Storage group {child} already has a parent storage group"
            )));
        }
        check_cascade(
            parent,
            p.host_io_limit.as_ref(),
            child,
            c.host_io_limit.as_ref(),
        )?;
        if self
            .masking_views
            .values()
            .any(|v| v.storage_group == child)
        {
            return Err(SimError::bad_request(format!(
                "Storage group {child} is in a masking view and cannot become a child"
            )));
        }
        self.sg_mut(parent)?.children.insert(child.to_string());
        self.sg_mut(child)?.parents.insert(parent.to_string());
        self.refresh_luns();
        Ok(())
    }

    /// Renames a storage group; its volumes, nesting and views follow it.
    pub fn rename_storage_group(&mut self, id: &str, new: &str) -> SimResult<()> {
        check_object_name("storage group", new)?;
        self.sg(id)?;
        if self.storage_groups.contains_key(new) {
            return Err(SimError::conflict(format!(
                "A storage group named {new} already exists"
            )));
        }
        let Some(mut g) = self.storage_groups.remove(id) else {
            return Err(SimError::not_found(format!(
                "Cannot find Storage Group {id}"
            )));
        };
        g.id = new.to_string();
        for other in self.storage_groups.values_mut() {
            if other.parents.remove(id) {
                other.parents.insert(new.to_string());
            }
            if other.children.remove(id) {
                other.children.insert(new.to_string());
            }
        }
        for mv in self.masking_views.values_mut() {
            if mv.storage_group == id {
                mv.storage_group = new.to_string();
            }
        }
        self.storage_groups.insert(new.to_string(), g);
        Ok(())
    }

    pub fn remove_child(&mut self, parent: &str, child: &str) -> SimResult<()> {
        if !self.sg(parent)?.children.contains(child) {
            return Err(SimError::bad_request(format!(
                "Storage group {child} is not a child of {parent}"
            )));
        }
        self.sg_mut(parent)?.children.remove(child);
        self.sg_mut(child)?.parents.remove(parent);
        self.refresh_luns();
        Ok(())
    }

    pub fn set_slo(&mut self, sg: &str, slo: Option<String>) -> SimResult<()> {
        let slo = slo.filter(|s| !s.eq_ignore_ascii_case("none"));
        if let Some(s) = &slo {
            self.check_slo(s)?;
            if self.sg(sg)?.srp.is_none() {
                return Err(SimError::bad_request(format!(
                    "Storage group {sg} has no SRP and cannot take a service level"
                )));
            }
        }
        let g = self.sg_mut(sg)?;
        if slo.is_none() {
            g.workload = None;
        }
        g.slo = slo;
        Ok(())
    }

    pub fn set_workload(&mut self, sg: &str, w: Option<String>) -> SimResult<()> {
        let w = w.filter(|s| !s.eq_ignore_ascii_case("none"));
        if let Some(w) = &w {
            self.check_workload(w)?;
            if self.sg(sg)?.slo.is_none() {
                return Err(SimError::bad_request(format!(
                    "Storage group {sg} has no service level; a workload needs one"
                )));
            }
        }
        self.sg_mut(sg)?.workload = w;
        Ok(())
    }

    /// Sets a group's host I/O limits as the array does: a value left out
    /// keeps the group's (or is `NOLIMIT`), IO/s go in steps of 100, and
    /// `NOLIMIT` for both removes the limit.
    pub fn set_host_io_limit(&mut self, sg: &str, limit: HostIoLimit) -> SimResult<()> {
        let check = |v: &Option<String>, lo: u64, hi: u64, what: &str| -> SimResult<()> {
            if let Some(s) = v {
                if s.eq_ignore_ascii_case("nolimit") {
                    return Ok(());
                }
                // clients send "100", 100 or 100.0
                let n = s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
                    .ok_or_else(|| {
                        SimError::bad_request(format!("{what} '{s}' is not a whole number"))
                    })?;
                if n < lo || n > hi {
                    return Err(SimError::bad_request(format!(
                        "{what} must be between {lo} and {hi}, not {n}"
                    )));
                }
                if what == "host_io_limit_io_sec" && n % 100 != 0 {
                    return Err(SimError::bad_request(format!(
                        "{what} must be a multiple of 100, not {n}"
                    )));
                }
            }
            Ok(())
        };
        check(
            &limit.host_io_limit_io_sec,
            100,
            100_000,
            "host_io_limit_io_sec",
        )?;
        check(
            &limit.host_io_limit_mb_sec,
            1,
            100_000,
            "host_io_limit_mb_sec",
        )?;
        if !["Never", "OnFailure", "Always"].contains(&limit.dynamic_distribution.as_str()) {
            return Err(SimError::bad_request(
                "dynamicDistribution must be Never, OnFailure or Always",
            ));
        }
        let g = self.sg_mut(sg)?;
        let old = g.host_io_limit.take();
        let keep = |new: Option<String>, old: Option<&String>| {
            new.or_else(|| old.cloned())
                .unwrap_or_else(|| "NOLIMIT".to_string())
        };
        let merged = HostIoLimit {
            host_io_limit_io_sec: Some(keep(
                limit.host_io_limit_io_sec,
                old.as_ref().and_then(|o| o.host_io_limit_io_sec.as_ref()),
            )),
            host_io_limit_mb_sec: Some(keep(
                limit.host_io_limit_mb_sec,
                old.as_ref().and_then(|o| o.host_io_limit_mb_sec.as_ref()),
            )),
            dynamic_distribution: limit.dynamic_distribution,
        };
        let none = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case("nolimit"))
        };
        let new = (!(none(&merged.host_io_limit_io_sec) && none(&merged.host_io_limit_mb_sec)))
            .then_some(merged);
        g.host_io_limit = old;
        // cascaded groups: checked against the parent and the children
        let (parents, children) = (g.parents.clone(), g.children.clone());
        for p in &parents {
            check_cascade(p, self.sg(p)?.host_io_limit.as_ref(), sg, new.as_ref())?;
        }
        for c in &children {
            check_cascade(sg, new.as_ref(), c, self.sg(c)?.host_io_limit.as_ref())?;
        }
        self.sg_mut(sg)?.host_io_limit = new;
        Ok(())
    }

    pub fn set_compression(&mut self, sg: &str, on: bool) -> SimResult<()> {
        if !self.compression_capable {
            return Err(SimError::bad_request(format!(
                "editCompressionParam is not valid: array {} is not compression capable",
                self.symmetrix_id
            )));
        }
        let g = self.sg_mut(sg)?;
        if on && g.slo.is_none() {
            return Err(SimError::bad_request(format!(
                "Storage group {sg} has no service level: compression needs one"
            )));
        }
        g.compression = on;
        Ok(())
    }

    // ---- volumes -------------------------------------------------------

    fn ucode_family(&self) -> u32 {
        self.ucode
            .split('.')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5978)
    }

    pub fn expand_volume(&mut self, dev: &str, new_mb: u64) -> SimResult<()> {
        let v = self.volume(dev)?;
        if new_mb < v.cap_mb {
            return Err(SimError::bad_request(format!(
                "Volume {dev} is {} GB; a volume can only grow, not shrink to {} GB",
                v.cap_gb(),
                new_mb as f64 / 1024.0
            )));
        }
        if new_mb == v.cap_mb {
            return Ok(());
        }
        if let Some(l) = &v.rdf
            && !(l.state == "Suspended" || l.state == "Split")
        {
            return Err(SimError::bad_request(format!(
                "Volume {dev} is an RDF device whose pair is {}; suspend or split the pair (RDF group {}) before expanding it",
                l.state, l.group
            )));
        }
        if self.ucode_family() < 5978 && (self.is_snapvx_source(dev) || self.is_snapvx_target(dev))
        {
            return Err(SimError::bad_request(format!(
                "Volume {dev} is in a SnapVX session and cannot be expanded on this microcode; terminate its snapshots and links first"
            )));
        }
        let srp = v.srp.clone();
        let (_, subscribed) = self.srp_usage(&srp);
        let extra = (new_mb - v.cap_mb) as f64 / 1024.0;
        self.check_capacity(&srp, new_mb as f64 / 1024.0)?;
        if subscribed + extra > self.srp(&srp)?.total_usable_cap_gb * 10.0 {
            return Err(SimError::bad_request(format!(
                "Insufficient capacity in SRP {srp} to expand volume {dev}"
            )));
        }
        if let Some(v) = self.volumes.get_mut(dev) {
            v.cap_mb = new_mb;
        }
        Ok(())
    }

    pub fn rename_volume(&mut self, dev: &str, identifier: Option<String>) -> SimResult<()> {
        if let Some(i) = &identifier {
            check_volume_identifier(i)?;
        }
        self.volume(dev)?;
        if let Some(v) = self.volumes.get_mut(dev) {
            v.identifier = identifier.filter(|s| !s.is_empty());
        }
        Ok(())
    }

    pub fn free_volume(&mut self, dev: &str) -> SimResult<()> {
        self.volume(dev)?;
        if let Some(v) = self.volumes.get_mut(dev) {
            v.allocated_percent = 0;
        }
        Ok(())
    }

    /// Simulates host writes: raises a volume's allocation.
    pub fn write_volume(&mut self, dev: &str, percent: u32) -> SimResult<()> {
        self.volume(dev)?;
        if let Some(v) = self.volumes.get_mut(dev) {
            v.allocated_percent = percent.min(100);
        }
        Ok(())
    }

    pub fn delete_volume(&mut self, dev: &str) -> SimResult<()> {
        self.volume(dev)?;
        if let Some(l) = &self.volume(dev)?.rdf {
            return Err(SimError::bad_request(format!(
                "Volume {dev} is an RDF device (paired with {} on array {} in RDF group {}); delete the pair before deleting it",
                l.remote_device, l.remote_array, l.group
            )));
        }
        let groups = self.groups_of_volume(dev);
        if !groups.is_empty() {
            return Err(SimError::bad_request(format!(
                "Volume {dev} is in storage group {}; remove it from every storage group before deleting it",
                groups.join(", ")
            )));
        }
        if self.is_snapvx_source(dev) || self.is_snapvx_target(dev) {
            return Err(SimError::bad_request(format!(
                "Volume {dev} has SnapVX sessions; unlink its targets and terminate its snapshots before deleting it"
            )));
        }
        self.volumes.remove(dev);
        Ok(())
    }

    // ---- hosts, views, LUNs -------------------------------------------

    /// Makes a port group of existing front-end ports.
    pub fn create_port_group(&mut self, id: &str, ports: Vec<PortKey>) -> SimResult<()> {
        check_object_name("port group", id)?;
        if self.port_groups.contains_key(id) {
            return Err(SimError::conflict(format!(
                "A port group named {id} already exists"
            )));
        }
        if ports.is_empty() {
            return Err(SimError::bad_request(
                "symmetrixPortKey must name at least one port",
            ));
        }
        let mut clean = Vec::new();
        for k in ports {
            // 8.4 sends "SE-1E:0" as the port id
            let port = k.port.rsplit(':').next().unwrap_or(&k.port).to_string();
            let k = PortKey {
                director: k.director,
                port,
            };
            if !self.ports.contains_key(&k.key()) {
                return Err(SimError::not_found(format!("Cannot find port {}", k.key())));
            }
            clean.push(k);
        }
        self.port_groups.insert(
            id.to_string(),
            PortGroup {
                id: id.to_string(),
                ports: clean,
            },
        );
        Ok(())
    }

    /// Deletes a port group; refused while a masking view uses it.
    pub fn delete_port_group(&mut self, id: &str) -> SimResult<()> {
        if !self.port_groups.contains_key(id) {
            return Err(SimError::not_found(format!("Cannot find Port Group {id}")));
        }
        let views: Vec<&str> = self
            .masking_views
            .values()
            .filter(|v| v.port_group == id)
            .map(|v| v.id.as_str())
            .collect();
        if !views.is_empty() {
            return Err(SimError::bad_request(format!(
                "Port group {id} is in masking view {}; delete the masking view first",
                views.join(", ")
            )));
        }
        self.port_groups.remove(id);
        Ok(())
    }

    pub fn create_host(&mut self, id: &str, initiators: &[String]) -> SimResult<()> {
        check_object_name("host", id)?;
        if self.hosts.contains_key(id) {
            return Err(SimError::conflict(format!(
                "A host named {id} already exists"
            )));
        }
        for i in initiators {
            let lower = i.to_ascii_lowercase();
            if !(lower.starts_with("iqn.") || lower.starts_with("eui.") || is_wwn(i)) {
                return Err(SimError::bad_request(format!(
                    "Initiator '{i}' is not a valid iSCSI name (iqn. or eui.) or Fibre Channel WWN"
                )));
            }
            if let Some(h) = self.host_of_initiator(i) {
                return Err(SimError::bad_request(format!(
                    "Initiator {i} already belongs to host {}; an initiator can belong to one host only",
                    h.id
                )));
            }
        }
        self.hosts.insert(
            id.to_string(),
            Host {
                id: id.to_string(),
                initiators: initiators.to_vec(),
                luns: BTreeMap::new(),
            },
        );
        Ok(())
    }

    pub fn delete_host(&mut self, id: &str) -> SimResult<()> {
        self.host(id)?;
        let views: Vec<&str> = self
            .masking_views
            .values()
            .filter(|v| v.host == id)
            .map(|v| v.id.as_str())
            .collect();
        if !views.is_empty() {
            return Err(SimError::bad_request(format!(
                "Host {id} is in masking view {}; delete the masking view first",
                views.join(", ")
            )));
        }
        self.hosts.remove(id);
        Ok(())
    }

    pub fn create_masking_view(
        &mut self,
        id: &str,
        host: &str,
        port_group: &str,
        sg: &str,
    ) -> SimResult<()> {
        check_object_name("masking view", id)?;
        if self.masking_views.contains_key(id) {
            return Err(SimError::conflict(format!(
                "A masking view named {id} already exists"
            )));
        }
        self.host(host)?;
        self.port_group(port_group)?;
        let g = self.sg(sg)?;
        if !g.parents.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {sg} is a child storage group; a masking view needs a parent or standalone storage group"
            )));
        }
        self.masking_views.insert(
            id.to_string(),
            MaskingView {
                id: id.to_string(),
                host: host.to_string(),
                port_group: port_group.to_string(),
                storage_group: sg.to_string(),
            },
        );
        self.refresh_luns();
        Ok(())
    }

    pub fn delete_masking_view(&mut self, id: &str) -> SimResult<()> {
        self.masking_view(id)?;
        self.masking_views.remove(id);
        self.refresh_luns();
        Ok(())
    }

    /// Volumes visible to a host through any of its views.
    pub fn visible_to_host(&self, host: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for v in self.masking_views.values().filter(|v| v.host == host) {
            out.extend(self.volumes_in_sg_deep(&v.storage_group));
        }
        out
    }

    /// Keeps each host's LUN map in step with what it can see: LUNs of
    /// devices still visible stay; newly visible devices get the lowest free.
    pub fn refresh_luns(&mut self) {
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in hosts {
            let visible = self.visible_to_host(&h);
            let Some(host) = self.hosts.get_mut(&h) else {
                continue;
            };
            host.luns.retain(|d, _| visible.contains(d));
            let mut used: BTreeSet<u32> = host.luns.values().copied().collect();
            for d in visible {
                host.luns.entry(d).or_insert_with(|| {
                    let mut lun = 1;
                    while used.contains(&lun) {
                        lun += 1;
                    }
                    used.insert(lun);
                    lun
                });
            }
        }
    }

    // ---- SnapVX ---------------------------------------------------------

    pub fn create_snapshot(&mut self, name: &str, devs: &[String], now_ms: u64) -> SimResult<()> {
        check_snapshot_name(name)?;
        if devs.is_empty() {
            return Err(SimError::bad_request(
                "deviceNameListSource must name at least one source volume",
            ));
        }
        for d in devs {
            self.volume(d)?;
        }
        let seq = self.snapshots.iter().map(|s| s.seq).max().unwrap_or(0) + 1;
        for d in devs {
            let existing = self
                .snapshots
                .iter()
                .filter(|s| s.source == *d && s.name == name)
                .count();
            if existing >= 1024 {
                return Err(SimError::bad_request(format!(
                    "Volume {d} already has 1024 generations of snapshot {name}"
                )));
            }
            let snap_id = self.has_snap_ids().then(|| snap_id_for(name, seq));
            self.snapshots.push(Snapshot {
                source: d.clone(),
                name: name.to_string(),
                created_ms: now_ms,
                seq,
                links: vec![],
                snap_id,
            });
        }
        Ok(())
    }

    fn snapshot_index(&self, name: &str, source: &str, generation: u32) -> SimResult<usize> {
        let mut gens: Vec<(usize, u64)> = self
            .snapshots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.source == source && s.name == name)
            .map(|(i, s)| (i, s.seq))
            .collect();
        if gens.is_empty() {
            return Err(SimError::not_found(format!(
                "Cannot find snapshot {name} of volume {source}"
            )));
        }
        gens.sort_by_key(|g| std::cmp::Reverse(g.1));
        gens.get(generation as usize).map(|g| g.0).ok_or_else(|| {
            SimError::not_found(format!(
                "Snapshot {name} of volume {source} has no generation {generation}"
            ))
        })
    }

    pub fn link_snapshot(
        &mut self,
        name: &str,
        source: &str,
        target: &str,
        generation: u32,
        copy: bool,
        now_ms: u64,
    ) -> SimResult<()> {
        let idx = self.snapshot_index(name, source, generation)?;
        let src = self.volume(source)?;
        let tgt = self.volume(target)?;
        if source == target {
            return Err(SimError::bad_request(
                "A volume cannot be linked to its own snapshot",
            ));
        }
        if tgt.cap_mb < src.cap_mb {
            return Err(SimError::bad_request(format!(
                "Link target {target} ({} GB) is smaller than source {source} ({} GB); a target must be at least as large as its source",
                tgt.cap_gb(),
                src.cap_gb()
            )));
        }
        if self.is_snapvx_target(target) {
            return Err(SimError::bad_request(format!(
                "Volume {target} is already linked to a snapshot; unlink it first"
            )));
        }
        self.snapshots[idx].links.push(Link {
            target: target.to_string(),
            copy,
            linked_ms: now_ms,
        });
        Ok(())
    }

    pub fn unlink_snapshot(
        &mut self,
        name: &str,
        source: &str,
        target: &str,
        generation: u32,
    ) -> SimResult<()> {
        let idx = self.snapshot_index(name, source, generation)?;
        let links = &mut self.snapshots[idx].links;
        let before = links.len();
        links.retain(|l| l.target != target);
        if links.len() == before {
            return Err(SimError::bad_request(format!(
                "Volume {target} is not linked to generation {generation} of snapshot {name} of {source}"
            )));
        }
        Ok(())
    }

    pub fn terminate_snapshot(
        &mut self,
        name: &str,
        source: &str,
        generation: u32,
    ) -> SimResult<()> {
        let idx = self.snapshot_index(name, source, generation)?;
        if !self.snapshots[idx].links.is_empty() {
            let t: Vec<&str> = self.snapshots[idx]
                .links
                .iter()
                .map(|l| l.target.as_str())
                .collect();
            return Err(SimError::bad_request(format!(
                "Generation {generation} of snapshot {name} of {source} has linked targets ({}); unlink them first",
                t.join(", ")
            )));
        }
        self.snapshots.remove(idx);
        Ok(())
    }
}

/// Which generation of a storage-group snapshot a request names.
#[derive(Debug, Clone, Copy)]
pub enum SnapSel {
    Generation(u32),
    SnapId(u64),
}

impl Array {
    /// The volumes of a storage group a SnapVX snapshot of it covers
    /// (its own and its children's), sorted.
    pub fn sg_snapshot_members(&self, sg: &str) -> SimResult<Vec<String>> {
        self.sg(sg)?;
        Ok(self.volumes_in_sg_deep(sg).into_iter().collect())
    }

    /// Names of the snapshots taken of a storage group's volumes.
    pub fn sg_snapshot_names(&self, sg: &str) -> SimResult<Vec<String>> {
        let members = self.sg_snapshot_members(sg)?;
        let names: BTreeSet<String> = self
            .snapshots
            .iter()
            .filter(|s| members.contains(&s.source))
            .map(|s| s.name.clone())
            .collect();
        Ok(names.into_iter().collect())
    }

    /// The per-volume snapshots (index, generation) of one generation of a
    /// storage-group snapshot, one per member that has it.
    pub fn sg_snapshot(&self, sg: &str, name: &str, sel: SnapSel) -> SimResult<Vec<usize>> {
        let members = self.sg_snapshot_members(sg)?;
        let mut out = Vec::new();
        for d in &members {
            let generation = match sel {
                SnapSel::Generation(g) => g,
                SnapSel::SnapId(id) => match self.generation_of_snap_id(name, d, id) {
                    Ok(g) => g,
                    Err(e) if e.status == 404 => continue,
                    Err(e) => return Err(e),
                },
            };
            if let Ok(i) = self.snapshot_index(name, d, generation) {
                out.push(i);
            }
        }
        if out.is_empty() {
            return Err(SimError::not_found(format!(
                "Cannot find snapshot {name} ({sel:?}) of storage group {sg}"
            )));
        }
        Ok(out)
    }

    /// A consistent snapshot of every member at one point in time.
    pub fn create_sg_snapshot(&mut self, sg: &str, name: &str, now_ms: u64) -> SimResult<()> {
        let members = self.sg_snapshot_members(sg)?;
        if members.is_empty() {
            return Err(SimError::bad_request(format!(
                "Storage group {sg} has no volumes; a SnapVX snapshot needs at least one"
            )));
        }
        self.create_snapshot(name, &members, now_ms)
    }

    /// Links (or unlinks) one generation to a target group: members and
    /// target volumes pair in device order; the counts must match and
    /// each target must be at least as large as its source.
    #[allow(clippy::too_many_arguments)]
    pub fn link_sg_snapshot(
        &mut self,
        sg: &str,
        name: &str,
        sel: SnapSel,
        target_sg: &str,
        copy: bool,
        unlink: bool,
        now_ms: u64,
    ) -> SimResult<()> {
        let idx = self.sg_snapshot(sg, name, sel)?;
        let targets = self.sg_snapshot_members(target_sg)?;
        if targets.len() != idx.len() {
            return Err(SimError::bad_request(format!(
                "Storage group {target_sg} has {} volumes, snapshot {name} of {sg} has {}; a link target group must have the same number of volumes",
                targets.len(),
                idx.len()
            )));
        }
        let pairs: Vec<(String, u32, String)> = idx
            .iter()
            .zip(&targets)
            .map(|(i, t)| {
                let s = &self.snapshots[*i];
                (s.source.clone(), self.generation(s), t.clone())
            })
            .collect();
        for (src, generation, tgt) in pairs {
            if unlink {
                self.unlink_snapshot(name, &src, &tgt, generation)?;
            } else {
                self.link_snapshot(name, &src, &tgt, generation, copy, now_ms)?;
            }
        }
        Ok(())
    }

    /// Terminates one generation of a storage-group snapshot on every member.
    pub fn terminate_sg_snapshot(&mut self, sg: &str, name: &str, sel: SnapSel) -> SimResult<()> {
        let idx = self.sg_snapshot(sg, name, sel)?;
        if let Some(i) = idx.iter().find(|i| !self.snapshots[**i].links.is_empty()) {
            let s = &self.snapshots[*i];
            return Err(SimError::bad_request(format!(
                "Snapshot {name} of storage group {sg} has linked targets ({}); unlink them first",
                s.links
                    .iter()
                    .map(|l| l.target.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut idx = idx;
        idx.sort_unstable_by(|a, b| b.cmp(a));
        for i in idx {
            self.snapshots.remove(i);
        }
        Ok(())
    }

    /// Renames one generation of a storage-group snapshot.
    pub fn rename_sg_snapshot(
        &mut self,
        sg: &str,
        name: &str,
        sel: SnapSel,
        new: &str,
    ) -> SimResult<()> {
        check_snapshot_name(new)?;
        for i in self.sg_snapshot(sg, name, sel)? {
            self.snapshots[i].name = new.to_string();
        }
        Ok(())
    }
}

fn is_wwn(s: &str) -> bool {
    s.len() == 16 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Copy progress of a link: `copy_ms` is how long a full copy takes.
pub fn link_percent(link: &Link, now_ms: u64, copy_ms: u64) -> u32 {
    if !link.copy {
        return 0;
    }
    if copy_ms == 0 {
        return 100;
    }
    let elapsed = now_ms.saturating_sub(link.linked_ms);
    ((elapsed.saturating_mul(100)) / copy_ms).min(100) as u32
}

impl World {
    pub fn array(&self, id: &str) -> SimResult<&Array> {
        self.arrays
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Symmetrix {id}")))
    }

    pub fn array_mut(&mut self, id: &str) -> SimResult<&mut Array> {
        self.arrays
            .get_mut(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find Symmetrix {id}")))
    }

    /// Records a job; its status advances with time until `outcome`.
    #[allow(clippy::too_many_arguments)]
    pub fn add_job(
        &mut self,
        name: &str,
        outcome: JobOutcome,
        result: &str,
        task: &str,
        resource_link: &str,
        now_ms: u64,
        duration_ms: u64,
    ) -> Job {
        self.next_job_id += 1;
        let job = Job {
            job_id: format!("{}", 1_700_000_000_000u64 + self.next_job_id),
            name: name.to_string(),
            username: "smc".into(),
            outcome,
            result: result.to_string(),
            resource_link: resource_link.to_string(),
            task: task.to_string(),
            created_ms: now_ms,
            duration_ms,
        };
        self.jobs.insert(job.job_id.clone(), job.clone());
        // keep the job table bounded
        while self.jobs.len() > 10_000 {
            let Some(k) = self.jobs.keys().next().cloned() else {
                break;
            };
            self.jobs.remove(&k);
        }
        job
    }
}

/// The out-of-the-box array: what `vmax-sim` serves without a seed file.
pub fn default_world() -> World {
    let mut a = Array::new("000197800123", "VMAX250F", "5977.1125.1125");
    a.slos = [
        "Bronze",
        "Diamond",
        "Gold",
        "Optimized",
        "Platinum",
        "Silver",
    ]
    .map(String::from)
    .to_vec();
    a.workloads = ["OLTP", "OLTP_REP", "DSS", "DSS_REP"]
        .map(String::from)
        .to_vec();
    a.srps.insert(
        "SRP_1".into(),
        Srp {
            srp_id: "SRP_1".into(),
            total_usable_cap_gb: 307_200.0,
            reserved_cap_percent: 10,
            base_allocated_gb: 0.0,
            base_subscribed_gb: 0.0,
            headroom_gb: BTreeMap::new(),
        },
    );
    let ports = [
        ("SE-1E", "0", "192.0.2.10", "01e3e012e"),
        ("SE-2E", "0", "192.0.2.11", "02e3e012e"),
        ("SE-3E", "0", "192.0.2.12", "03e3e012e"),
    ];
    for (dir, port, ip, tag) in ports {
        let key = PortKey {
            director: dir.into(),
            port: port.into(),
        };
        a.ports.insert(
            key.key(),
            Port {
                key,
                iqn: format!("iqn.1992-04.com.emc:600009700bca30c{tag}00000001"),
                ip_addresses: vec![ip.into()],
            },
        );
    }
    let pk = |d: &str| PortKey {
        director: d.into(),
        port: "0".into(),
    };
    a.port_groups.insert(
        "OS-iscsi-PG".into(),
        PortGroup {
            id: "OS-iscsi-PG".into(),
            ports: vec![pk("SE-1E"), pk("SE-2E")],
        },
    );
    a.port_groups.insert(
        "OS-iscsi2-PG".into(),
        PortGroup {
            id: "OS-iscsi2-PG".into(),
            ports: vec![pk("SE-3E")],
        },
    );
    // the SRDF partner: same model, managed by this Unisphere remotely
    let mut b = a.clone();
    b.symmetrix_id = "000197800124".into();
    b.local = false;
    for (i, p) in b.ports.values_mut().enumerate() {
        p.ip_addresses = vec![format!("192.0.2.{}", 20 + i)];
        p.iqn = p.iqn.replace("bca30c", "bca30d");
    }
    let rdf = |remote: &str| super::rdf::RdfGroup {
        number: 1,
        label: "os-rdf".into(),
        remote_array: remote.into(),
        remote_number: 1,
        offline: false,
    };
    a.rdf_groups.insert("1".into(), rdf(&b.symmetrix_id));
    b.rdf_groups.insert("1".into(), rdf(&a.symmetrix_id));
    let mut w = World::default();
    w.arrays.insert(a.symmetrix_id.clone(), a);
    w.arrays.insert(b.symmetrix_id.clone(), b);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr() -> Array {
        default_world().arrays.remove("000197800123").unwrap()
    }

    fn sg(a: &mut Array, id: &str, slo: Option<&str>) {
        a.create_storage_group(NewStorageGroup {
            id: id.into(),
            srp: Some("SRP_1".into()),
            slo: slo.map(String::from),
            workload: None,
            no_compression: false,
        })
        .unwrap();
    }

    #[test]
    fn a_child_limit_cannot_exceed_its_parents() {
        let mut a = arr();
        sg(&mut a, "parent", None);
        sg(&mut a, "child", Some("Diamond"));
        let lim = |io: &str| HostIoLimit {
            host_io_limit_io_sec: Some(io.into()),
            host_io_limit_mb_sec: None,
            dynamic_distribution: "Never".into(),
        };
        a.set_host_io_limit("parent", lim("1000")).unwrap();
        a.set_host_io_limit("child", lim("5000")).unwrap();
        // nesting a child whose limit is above the parent's is refused
        let e = a.add_child("parent", "child").unwrap_err();
        assert!(e.message.contains("cannot exceed"), "{}", e.message);
        a.set_host_io_limit("child", lim("500")).unwrap();
        a.add_child("parent", "child").unwrap();
        // and so is raising the child's, or lowering the parent's, past the other
        assert_eq!(
            a.set_host_io_limit("child", lim("2000"))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            a.set_host_io_limit("parent", lim("400"))
                .unwrap_err()
                .status,
            400
        );
        a.set_host_io_limit("parent", lim("NOLIMIT")).unwrap();
        a.set_host_io_limit("child", lim("2000")).unwrap();
    }

    #[test]
    fn compression_is_a_choice_only_where_the_array_compresses() {
        let group = |id: &str, slo: Option<&str>, no_compression: bool| NewStorageGroup {
            id: id.into(),
            srp: Some("SRP_1".into()),
            slo: slo.map(String::from),
            no_compression,
            ..Default::default()
        };
        let mut a = arr();
        a.create_storage_group(group("on", Some("Diamond"), false))
            .unwrap();
        a.create_storage_group(group("off", Some("Diamond"), true))
            .unwrap();
        a.create_storage_group(group("bare", None, false)).unwrap();
        assert!(a.storage_groups["on"].compression);
        assert!(!a.storage_groups["off"].compression);
        assert!(!a.storage_groups["bare"].compression);
        a.set_compression("off", true).unwrap();
        assert!(a.storage_groups["off"].compression);
        let e = a.set_compression("bare", true).unwrap_err();
        assert!(e.message.contains("no service level"), "{}", e.message);
        // a hybrid array compresses nothing and takes no choice about it
        let mut h = arr();
        h.compression_capable = false;
        let e = h
            .create_storage_group(group("x", Some("Diamond"), true))
            .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.message.contains("not compression capable"),
            "{}",
            e.message
        );
        h.create_storage_group(group("y", Some("Diamond"), false))
            .unwrap();
        assert!(!h.storage_groups["y"].compression);
        assert_eq!(h.set_compression("y", false).unwrap_err().status, 400);
    }

    #[test]
    fn a_renamed_group_keeps_its_volumes_and_nesting() {
        let mut a = arr();
        sg(&mut a, "parent", None);
        sg(&mut a, "child", Some("Diamond"));
        sg(&mut a, "taken", Some("Gold"));
        a.add_child("parent", "child").unwrap();
        let devs = a.create_volumes_at("child", 1, 1024, None, 1).unwrap();
        // a taken name or a bad one is refused, and nothing changes
        assert_eq!(
            a.rename_storage_group("child", "taken").unwrap_err().status,
            409
        );
        assert_eq!(
            a.rename_storage_group("child", "bad name")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(a.rename_storage_group("nope", "x").unwrap_err().status, 404);
        a.rename_storage_group("child", "OS-SRP_1-Diamond-SG")
            .unwrap();
        assert!(!a.storage_groups.contains_key("child"));
        let g = &a.storage_groups["OS-SRP_1-Diamond-SG"];
        assert_eq!(g.slo.as_deref(), Some("Diamond"));
        assert!(g.volumes.contains(&devs[0]));
        assert!(g.parents.contains("parent"));
        assert!(
            a.storage_groups["parent"]
                .children
                .contains("OS-SRP_1-Diamond-SG")
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_object_name("storage group", "OS-SRP_1-Diamond-DSS-SG").is_ok());
        let e = check_object_name("storage group", "bad name").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("invalid character ' '"));
        assert!(check_object_name("host", &"a".repeat(65)).is_err());
        assert!(check_snapshot_name(&"s".repeat(33)).is_err());
    }

    #[test]
    fn invalid_slo_lists_valid_ones() {
        let mut a = arr();
        let e = a
            .create_storage_group(NewStorageGroup {
                id: "x".into(),
                srp: Some("SRP_1".into()),
                slo: Some("Titanium".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.message.contains("Bronze, Diamond, Gold"), "{}", e.message);
        let e = a
            .create_storage_group(NewStorageGroup {
                id: "y".into(),
                srp: Some("SRP_1".into()),
                workload: Some("DSS".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.message.contains("needs a service level"));
    }

    #[test]
    fn volume_lifecycle_and_delete_rules() {
        let mut a = arr();
        sg(&mut a, "sg1", Some("Diamond"));
        let ids = a
            .create_volumes("sg1", 1, 10 * 1024, Some("OS-v1".into()))
            .unwrap();
        let d = &ids[0];
        assert_eq!(d.len(), 5);
        assert!(a.volumes[d].wwn.starts_with("60000970000197800123"));
        assert_eq!(a.delete_volume(d).unwrap_err().status, 400);
        assert!(
            a.expand_volume(d, 5 * 1024)
                .unwrap_err()
                .message
                .contains("only grow")
        );
        a.expand_volume(d, 20 * 1024).unwrap();
        a.remove_volumes("sg1", std::slice::from_ref(d)).unwrap();
        a.delete_volume(d).unwrap();
        assert_eq!(a.delete_volume(d).unwrap_err().status, 404);
    }

    #[test]
    fn one_slo_group_per_volume() {
        let mut a = arr();
        sg(&mut a, "gold", Some("Gold"));
        sg(&mut a, "diamond", Some("Diamond"));
        sg(&mut a, "plain", None);
        let ids = a.create_volumes("gold", 1, 1024, None).unwrap();
        assert!(a.add_volumes("diamond", &ids).is_err());
        a.add_volumes("plain", &ids).unwrap();
        a.move_volumes("gold", &ids, "diamond").unwrap();
        assert_eq!(a.groups_of_volume(&ids[0]), vec!["diamond", "plain"]);
    }

    #[test]
    fn masking_views_assign_lowest_free_lun_and_protect_objects() {
        let mut a = arr();
        sg(&mut a, "parent", None);
        sg(&mut a, "child", Some("Diamond"));
        a.add_child("parent", "child").unwrap();
        let ids = a.create_volumes("child", 3, 1024, None).unwrap();
        a.create_host("h1", &["iqn.1993-08.org.debian:01:abc".into()])
            .unwrap();
        assert!(
            a.create_host("h2", &["iqn.1993-08.org.debian:01:abc".into()])
                .unwrap_err()
                .message
                .contains("one host only")
        );
        assert!(
            a.create_masking_view("mv", "h1", "OS-iscsi-PG", "child")
                .is_err()
        );
        a.create_masking_view("mv", "h1", "OS-iscsi-PG", "parent")
            .unwrap();
        let luns: Vec<u32> = ids.iter().map(|d| a.hosts["h1"].luns[d]).collect();
        assert_eq!(luns, vec![1, 2, 3]);
        a.remove_volumes("child", &ids[1..2]).unwrap();
        let more = a.create_volumes("child", 1, 1024, None).unwrap();
        assert_eq!(a.hosts["h1"].luns[&more[0]], 2, "lowest free LUN is reused");
        assert_eq!(
            a.hosts["h1"].luns[&ids[2]], 3,
            "LUNs are kept while visible"
        );
        assert!(a.delete_storage_group("parent", false).is_err());
        assert!(a.delete_storage_group("parent", true).is_err(), "in a view");
        assert!(a.delete_host("h1").is_err());
        assert_eq!(a.views_of_sg("child"), vec!["mv"]);
        a.delete_masking_view("mv").unwrap();
        assert!(a.hosts["h1"].luns.is_empty());
        assert!(
            a.delete_storage_group("parent", false).is_err(),
            "parent with children, API 100 and later"
        );
        a.delete_storage_group("parent", true).unwrap();
        let child = &a.storage_groups["child"];
        assert!(
            child.parents.is_empty(),
            "up to API 92 the child stays, standalone"
        );
    }

    #[test]
    fn snapvx_generations_links_and_terminate() {
        let mut a = arr();
        sg(&mut a, "sg", Some("Diamond"));
        let src = a.create_volumes("sg", 1, 1024, None).unwrap()[0].clone();
        let small = a.create_volumes("sg", 1, 512, None).unwrap()[0].clone();
        let tgt = a.create_volumes("sg", 1, 2048, None).unwrap()[0].clone();
        a.create_snapshot("snap", std::slice::from_ref(&src), 10)
            .unwrap();
        a.create_snapshot("snap", std::slice::from_ref(&src), 20)
            .unwrap();
        let newest = a.snapshots.iter().find(|s| s.created_ms == 20).unwrap();
        assert_eq!(a.generation(newest), 0);
        assert!(a.link_snapshot("snap", &src, &small, 0, true, 30).is_err());
        a.link_snapshot("snap", &src, &tgt, 0, true, 30).unwrap();
        assert!(a.link_snapshot("snap", &src, &tgt, 1, true, 30).is_err());
        assert!(a.terminate_snapshot("snap", &src, 0).is_err());
        assert!(a.expand_volume(&src, 4096).is_err(), "5977 refuses");
        let l = &a
            .snapshots
            .iter()
            .find(|s| s.created_ms == 20)
            .unwrap()
            .links[0];
        assert_eq!(link_percent(l, 30 + 500, 1000), 50);
        a.unlink_snapshot("snap", &src, &tgt, 0).unwrap();
        a.terminate_snapshot("snap", &src, 0).unwrap();
        a.terminate_snapshot("snap", &src, 0).unwrap();
        assert!(!a.is_snapvx_source(&src));
    }

    #[test]
    fn job_status_progresses() {
        let mut w = World::default();
        let j = w.add_job("n", JobOutcome::Succeeded, "", "t", "", 1000, 200);
        assert_eq!(j.status(1000), "SCHEDULED");
        assert_eq!(j.status(1170), "RUNNING");
        assert_eq!(j.status(1200), "SUCCEEDED");
    }
}
