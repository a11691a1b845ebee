//! The VMAX iSCSI driver's operations over the typed Unisphere API:
//! naming, policies, storage groups, ownership, locks and sagas.
//!
//! How an operation runs:
//! 1. It computes its lock set from what it reads (default groups
//!    included), takes it in one global order ([`locks::Locks::lock_many`]),
//!    then reads the array again and starts over if the set it needs has
//!    changed meanwhile ([`Driver::lock_for`]). It never takes a lock while
//!    holding a set.
//! 2. It checks ownership before any change: a create never adopts an
//!    object that existed before it (see `ARCHITECTURE.md`, "Ownership").
//! 3. Its changes are steps recorded in a [`saga::Saga`]; between steps it
//!    checks its deadline and Terraform's stop ([`Op::check`]). On any
//!    error it releases its locks and undoes what it did.
//!
//! Nothing here sees Terraform types or builds a path or a request body.

pub mod batch;
pub mod error;
pub mod export;
pub mod group;
pub mod journal;
pub mod lists;
pub mod locks;
pub mod naming;
pub mod replication;
pub mod saga;
pub mod snapshot;
pub mod stats;

pub use crate::unisphere::Config as ConnectionConfig;
use crate::unisphere::{self, Array, NewVolume, SloParam, StorageGroup};
pub use error::{DriverError, Op, Result};
pub use naming::Policy;
use saga::{Saga, Undo, not_found_ok};
use std::future::Future;
use std::time::Duration;
use tokio::sync::OnceCell;

/// What the array says about one volume.
#[derive(Debug, Clone)]
pub struct VolumeInfo {
    pub device_id: String,
    pub identifier: Option<String>,
    pub size_gb: f64,
    pub wwn: String,
    pub storage_groups: Vec<String>,
    /// From the volume's service-level storage group, if any.
    pub policy: Option<Policy>,
    /// The group whose service level the volume takes.
    pub policy_group: Option<String>,
    pub snapvx_source: bool,
    pub snapvx_target: bool,
    pub masking_views: Vec<String>,
    /// The volume's service level comes from a child group of an export
    /// (nested in a masking-view parent), which `vmax_iscsi_export` owns.
    pub in_export_group: bool,
    /// What the volume's policy group really has (compression, host I/O
    /// limits), when it was read; `None` when not.
    pub settings: Option<GroupSettings>,
    /// Groups read along the way, by name.
    groups: Vec<StorageGroup>,
}

/// A storage group's compression and host I/O limits as the array has them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSettings {
    /// `None` when the array does not say.
    pub compression: Option<bool>,
    pub qos: Option<naming::Qos>,
}

impl GroupSettings {
    pub fn of(g: &StorageGroup) -> GroupSettings {
        GroupSettings {
            compression: g.compression,
            qos: g.host_io_limit.as_ref().and_then(|l| {
                naming::Qos {
                    max_iops: l.host_io_limit_io_sec,
                    max_mbps: l.host_io_limit_mb_sec,
                    distribution: l
                        .dynamic_distribution
                        .as_deref()
                        .and_then(naming::Distribution::parse)
                        .unwrap_or_default(),
                }
                .limits()
            }),
        }
    }

    /// What a group made for `p` has.
    fn made_for(p: &Policy) -> GroupSettings {
        GroupSettings {
            compression: p.compression.choice(),
            qos: p.qos,
        }
    }
}

/// The array's form of a policy's limits (`NOLIMIT` for none).
fn limits_of(q: Option<&naming::Qos>) -> unisphere::Limits {
    unisphere::Limits {
        io_sec: q.and_then(|q| q.max_iops),
        mb_sec: q.and_then(|q| q.max_mbps),
        distribution: q
            .map_or(naming::Distribution::Never, |q| q.distribution)
            .as_str()
            .to_string(),
    }
}

/// The service-level part of a group made for `p`, if it has a level.
pub(crate) fn slo_param(p: &Policy) -> Option<SloParam> {
    p.slo.as_ref().map(|slo| SloParam {
        slo: slo.clone(),
        workload: p.workload.clone(),
        no_compression: p.compression == naming::Compression::Off,
        limits: p.qos.as_ref().map(|q| limits_of(Some(q))),
    })
}

impl VolumeInfo {
    /// A volume this process just made in `sg`, the default group of `p`:
    /// nothing else can hold it yet, so its groups need no read.
    fn fresh(v: unisphere::Volume, sg: &str, p: &Policy) -> VolumeInfo {
        let size_gb = v.size_gb();
        VolumeInfo {
            device_id: v.volume_id,
            identifier: v.volume_identifier,
            size_gb,
            wwn: v.wwn,
            storage_groups: v.storage_groups,
            policy: Some(p.clone()),
            policy_group: Some(sg.to_string()),
            snapvx_source: v.snapvx_source,
            snapvx_target: v.snapvx_target,
            masking_views: vec![],
            in_export_group: false,
            settings: Some(GroupSettings::made_for(p)),
            groups: vec![],
        }
    }

    fn group(&self, name: &str) -> Option<&StorageGroup> {
        self.groups.iter().find(|g| g.id == name)
    }
}

/// Driver settings from the provider block.
#[derive(Debug, Clone)]
pub struct Settings {
    pub array: String,
    pub srp: String,
    pub port_groups: Vec<String>,
    /// SRDF to a second array (the provider's `replication` block).
    pub replication: Option<replication::Replication>,
}

pub struct Driver {
    api: Array,
    pub settings: Settings,
    locks: locks::Locks,
    batches: batch::Batches,
    joins: batch::Joins,
    /// Exports found in place by this process (`export.rs`).
    in_place: export::InPlace,
    slos: OnceCell<Vec<String>>,
    workloads: OnceCell<Vec<String>>,
    srps: OnceCell<Vec<String>>,
    compression_capable: OnceCell<bool>,
    /// The array's microcode and model, learnt when connecting.
    ucode: String,
    model: String,
    /// The array's default SRP, learnt when connecting: a policy naming it
    /// needs no SRP list.
    default_srp: Option<String>,
    /// Proof, surviving a crash, of what this workspace's creates made.
    pub journal: journal::Journal,
    /// Volumes as this process last read them, with the change epoch of
    /// the read ([`Driver::remember`]).
    described: std::sync::Mutex<std::collections::HashMap<String, (u64, VolumeInfo)>>,
    /// The driver of the replication's remote array, made at first use.
    remote: OnceCell<Box<Driver>>,
    /// The RDF group found by the replication's label.
    rdf_group: OnceCell<u32>,
    /// The connection settings, for the remote array's driver.
    cfg: ConnectionConfig,
}

/// How long to keep looking for a volume whose create just succeeded
/// (some Unisphere releases lag on lookups by identifier).
const LOOKUP_LAG: Duration = Duration::from_secs(15);

impl Driver {
    /// Connects to Unisphere and checks that it manages the array.
    pub async fn connect(cfg: ConnectionConfig, settings: Settings) -> Result<Driver> {
        let client = unisphere::Client::connect(cfg.clone()).await?;
        let api = Array::new(client, &settings.array);
        // one read when the array is there; the list only to explain a miss
        let info = match api.info().await? {
            Some(info) => info,
            None => {
                let ids = api.list_arrays().await?;
                return Err(DriverError::invalid(
                    "array",
                    format!(
                        "array {} is not managed by the Unisphere at {}; it manages: {}",
                        settings.array,
                        api.client.endpoint(),
                        if ids.is_empty() {
                            "no arrays".to_string()
                        } else {
                            ids.join(", ")
                        }
                    ),
                ));
            }
        };
        Ok(Driver {
            api,
            settings,
            locks: locks::Locks::default(),
            batches: batch::Batches::default(),
            joins: batch::Joins::default(),
            in_place: export::InPlace::default(),
            slos: OnceCell::new(),
            workloads: OnceCell::new(),
            srps: OnceCell::new(),
            compression_capable: OnceCell::new(),
            ucode: info.ucode,
            model: info.model,
            default_srp: info.default_fba_srp,
            journal: journal::Journal::for_workspace(),
            described: Default::default(),
            remote: OnceCell::new(),
            rdf_group: OnceCell::new(),
            cfg,
        })
    }

    pub fn array(&self) -> &str {
        &self.settings.array
    }

    /// How long one array job may take (the provider's `job_timeout`).
    pub fn job_timeout(&self) -> Duration {
        self.api.client.job_timeout()
    }

    /// Whether the array's microcode refuses to grow a SnapVX source or
    /// target (VMAX3 microcode 5977 does; PowerMax 5978 and later do not).
    pub fn refuses_growing_snapvx(&self) -> bool {
        self.ucode.starts_with("5977")
    }

    // ---- locks ----------------------------------------------------------------

    pub(crate) fn sg_lock(sg: &str) -> String {
        format!("sg:{sg}")
    }
    pub(crate) fn vol_lock(dev: &str) -> String {
        format!("vol:{dev}")
    }
    pub(crate) fn host_lock(h: &str) -> String {
        format!("host:{h}")
    }
    pub(crate) fn mv_lock(mv: &str) -> String {
        format!("mv:{mv}")
    }
    pub(crate) fn snap_lock(dev: &str) -> String {
        format!("snap:{dev}")
    }
    pub(crate) fn ident_lock(identifier: &str) -> String {
        format!("ident:{identifier}")
    }

    /// Runs `plan` (which reads the array and says which locks what it
    /// read needs) and returns its answer with that lock set held. The
    /// read counts when nobody in this process held one of those locks
    /// while it ran ([`locks::Locks::try_extend`]); otherwise the locks are
    /// taken, waiting, and `plan` runs again under them.
    pub(crate) async fn lock_for<T, F, Fut>(&self, plan: F) -> Result<(locks::Guards, T)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(Vec<String>, T)>>,
    {
        self.lock_for_from(vec![], plan).await
    }

    /// [`Driver::lock_for`] starting with the locks `names` held (what
    /// the caller knows the operation needs at least).
    pub(crate) async fn lock_for_from<T, F, Fut>(
        &self,
        mut names: Vec<String>,
        mut plan: F,
    ) -> Result<(locks::Guards, T)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(Vec<String>, T)>>,
    {
        for _ in 0..8 {
            let mut guards = self.locks.lock_many(&names).await;
            let since = self.locks.releases();
            let (need, t) = plan().await?;
            let extra: Vec<String> = need
                .iter()
                .filter(|n| !names.contains(n))
                .cloned()
                .collect();
            if extra.is_empty() || self.locks.try_extend(&mut guards, &extra, since) {
                // the set may have shrunk (what it had to change is in
                // place now): what it no longer needs is released at once
                guards.retain(|g| need.iter().any(|n| n == g.name()));
                return Ok((guards, t));
            }
            drop(guards);
            names.extend(need);
        }
        Err(DriverError::Inconsistent(
            "the array kept changing under this operation; try again".into(),
        ))
    }

    // ---- policies ---------------------------------------------------------------

    pub async fn service_levels(&self) -> Result<&Vec<String>> {
        self.slos
            .get_or_try_init(|| async {
                let l = self.api.service_levels().await?;
                Ok::<_, DriverError>(
                    l.into_iter()
                        .filter(|s| !s.eq_ignore_ascii_case("none"))
                        .collect(),
                )
            })
            .await
    }

    pub async fn workloads(&self) -> Result<&Vec<String>> {
        self.workloads
            .get_or_try_init(|| async {
                let l = self.api.workloads().await?;
                Ok::<_, DriverError>(
                    l.into_iter()
                        .filter(|s| !s.eq_ignore_ascii_case("none"))
                        .collect(),
                )
            })
            .await
    }

    /// The array's storage resource pools (read once per process).
    /// Whether the array compresses: All Flash models do (`VMAX250F`,
    /// `VMAX950F`, `PowerMax_8000`...), hybrid ones (`VMAX400K`...) do not;
    /// for a model this does not know, the array's list of
    /// compression-capable arrays says (asked once per process).
    pub async fn compression_capable(&self) -> Result<bool> {
        let m = self.model.to_ascii_uppercase();
        if m.starts_with("POWERMAX") || (m.starts_with("VMAX") && m.ends_with('F')) {
            return Ok(true);
        }
        if m.starts_with("VMAX") && m.ends_with('K') {
            return Ok(false);
        }
        Ok(*self
            .compression_capable
            .get_or_try_init(|| self.api.compression_capable())
            .await?)
    }

    pub async fn srps(&self) -> Result<&Vec<String>> {
        self.srps
            .get_or_try_init(|| async { Ok::<_, DriverError>(self.api.srps().await?) })
            .await
    }

    /// Checks a policy against the array's lists; the message names the valid values.
    pub async fn validate_policy(&self, p: &Policy) -> Result<()> {
        if self.default_srp.as_deref() != Some(p.srp.as_str())
            && let srps = self.srps().await?
            && !srps.contains(&p.srp)
        {
            return Err(DriverError::invalid(
                "srp",
                format!(
                    "storage resource pool {:?} is not on array {}; it has: {}",
                    p.srp,
                    self.settings.array,
                    srps.join(", ")
                ),
            ));
        }
        if let Some(slo) = &p.slo {
            let slos = self.service_levels().await?;
            if !slos.iter().any(|s| s == slo) {
                return Err(DriverError::invalid(
                    "service_level",
                    format!(
                        "service level {slo:?} is not offered by array {}; valid values are: {}, or \"None\" for no service level",
                        self.settings.array,
                        slos.join(", ")
                    ),
                ));
            }
        }
        if let Some(w) = &p.workload {
            if p.slo.is_none() {
                return Err(DriverError::invalid(
                    "workload",
                    format!(
                        "workload {w:?} needs a service level; set service_level, or remove workload"
                    ),
                ));
            }
            let ws = self.workloads().await?;
            if !ws.iter().any(|x| x == w) {
                return Err(DriverError::invalid(
                    "workload",
                    format!(
                        "workload {w:?} is not offered by array {}; valid values are: {}",
                        self.settings.array,
                        if ws.is_empty() {
                            "none (this array has no workload types; omit workload)".to_string()
                        } else {
                            ws.join(", ")
                        }
                    ),
                ));
            }
        }
        if let Some(q) = &p.qos
            && let Err((attr, msg)) = q.check()
        {
            return Err(DriverError::invalid(attr, msg));
        }
        if p.compression != naming::Compression::Default && !self.compression_capable().await? {
            return Err(DriverError::invalid(
                "compression",
                format!(
                    "array {} does not compress (it is not an All Flash array), so compression cannot be chosen; remove compression",
                    self.settings.array
                ),
            ));
        }
        Ok(())
    }

    // ---- storage groups -----------------------------------------------------

    pub async fn get_storage_group(&self, sg: &str) -> Result<Option<StorageGroup>> {
        Ok(self.api.storage_group(sg).await?)
    }

    /// Creates a storage group if it is missing: with the policy's SRP and
    /// service level, or (no policy) without either, as masking-view
    /// parents are. Returns whether this call made it (made meanwhile by
    /// someone else, a 409, is not ours). Caller holds the group's lock.
    pub(crate) async fn ensure_group(&self, sg: &str, p: Option<&Policy>) -> Result<bool> {
        if self.api.storage_group(sg).await?.is_some() {
            return Ok(false);
        }
        self.make_group(sg, p).await
    }

    /// Creates a storage group the caller has just read as missing (under
    /// its lock); made meanwhile by someone else (409) is `false`.
    pub(crate) async fn make_group(&self, sg: &str, p: Option<&Policy>) -> Result<bool> {
        let slo = p.and_then(slo_param);
        let srp = p.map(|p| p.srp.as_str()).unwrap_or("None");
        let r = self.api.create_storage_group(sg, srp, slo.as_ref()).await;
        match r {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Some(409) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a driver-named group when it is empty and in no view, no
    /// parent and no child. Caller holds its lock.
    pub(crate) async fn delete_group_if_unused(&self, sg: &str) -> Result<()> {
        if !sg.starts_with(naming::MANAGED_PREFIX) {
            return Ok(());
        }
        if let Some(g) = self.api.storage_group_after_change(sg).await?
            && g.num_of_vols == 0
            && g.maskingview.is_empty()
            && g.child_storage_group.is_empty()
            && g.parent_storage_group.is_empty()
        {
            not_found_ok(self.api.delete_storage_group(sg).await)?;
            tracing::info!(storage_group = sg, "deleted empty storage group");
        }
        Ok(())
    }

    /// [`Driver::delete_group_if_unused`] for a clean-up that has no
    /// operation to fail (the group was emptied by a change that is done):
    /// a failure is tried again twice, a moment later, reading the group
    /// afresh, so that a passing array error does not leave it behind.
    pub(crate) async fn delete_group_if_unused_again(&self, sg: &str) -> Result<()> {
        let mut attempt = 0u64;
        loop {
            match self.delete_group_if_unused(sg).await {
                Err(e) if attempt < 2 => {
                    attempt += 1;
                    tracing::debug!(storage_group = sg, error = %e, attempt, "deleting the emptied group failed; trying again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                r => return r,
            }
        }
    }

    /// Moves a volume between groups: the array's move on 9.0 and later,
    /// add-then-remove before. Caller holds both groups' locks.
    pub(crate) async fn move_volume(&self, dev: &str, from: &str, to: &str) -> Result<()> {
        self.move_volumes(&[dev], from, to).await
    }

    /// [`Driver::move_volume`] for several volumes in one request.
    pub(crate) async fn move_volumes(&self, devs: &[&str], from: &str, to: &str) -> Result<()> {
        if self.api.has_move() {
            self.api.move_volumes(from, to, devs).await?;
        } else {
            self.api.add_volumes(to, devs).await?;
            if let Err(e) = self.api.remove_volumes(from, devs).await {
                let _ = self.api.remove_volumes(to, devs).await;
                return Err(e.into());
            }
        }
        Ok(())
    }

    // ---- volumes ------------------------------------------------------------

    /// Device ids of volumes with this identifier.
    pub async fn find_by_identifier(&self, identifier: &str) -> Result<Vec<String>> {
        Ok(self.api.volumes_by_identifier(identifier).await?)
    }

    pub async fn get_volume(&self, dev: &str) -> Result<Option<VolumeInfo>> {
        let Some(v) = self.api.volume(dev).await? else {
            return Ok(None);
        };
        let v = self.describe(v).await?;
        self.remember(&v);
        Ok(Some(v))
    }

    /// A volume for a refresh (Terraform's read of many resources): on
    /// Unisphere 10.x from one bulk read of the managed volumes shared by
    /// this process's reads and never used after one of its changes;
    /// otherwise (or when the volume is not in it) read alone.
    pub async fn refresh_volume(&self, dev: &str) -> Result<Option<VolumeInfo>> {
        if let Some(v) = self.remembered(dev) {
            return Ok(Some(v));
        }
        let filter = format!("identifier like {}", naming::MANAGED_PREFIX);
        match self.api.volume_from_bulk(dev, &filter).await? {
            Some(d) => self.describe(d.into()).await.map(Some),
            None => self.get_volume(dev).await,
        }
    }

    /// A volume's size in GB, for plan-time checks: from this command's
    /// bulk read when there is one, else one read (no group reads).
    pub async fn volume_size(&self, dev: &str) -> Result<Option<f64>> {
        let filter = format!("identifier like {}", naming::MANAGED_PREFIX);
        let v: Option<unisphere::Volume> = match self.api.volume_from_bulk(dev, &filter).await? {
            Some(d) => Some(d.into()),
            None => self.api.volume(dev).await?,
        };
        Ok(v.map(|v| v.size_gb()))
    }

    /// A volume with what its groups say (service level, views), the
    /// groups as this process last read them.
    async fn describe(&self, v: unisphere::Volume) -> Result<VolumeInfo> {
        let mut policy = None;
        let mut policy_group = None;
        let mut views = Vec::new();
        let mut in_export_group = false;
        let mut settings = None;
        let mut groups = Vec::new();
        for sg in &v.storage_groups {
            if let Some(g) = self.api.storage_group_cached(sg).await? {
                views.extend(g.maskingview.iter().cloned());
                if let Some(slo) = g.service_level() {
                    in_export_group = !g.parent_storage_group.is_empty();
                    policy = Some(self.policy_of_group(&g, slo).await?);
                    settings = Some(GroupSettings::of(&g));
                    policy_group = Some(g.id.clone());
                }
                groups.push(g);
            }
        }
        if policy.is_none() && !v.storage_groups.is_empty() {
            policy_group = v
                .storage_groups
                .iter()
                .find(|g| {
                    g.as_str() == naming::NO_SLO_GROUP || g.as_str() == naming::NO_SLO_RE_GROUP
                })
                .cloned();
            policy = Some(
                Policy::new(&self.settings.srp, None, None)
                    .replicated(policy_group.as_deref() == Some(naming::NO_SLO_RE_GROUP)),
            );
        }
        views.sort();
        views.dedup();
        let size_gb = v.size_gb();
        Ok(VolumeInfo {
            device_id: v.volume_id,
            identifier: v.volume_identifier,
            size_gb,
            wwn: v.wwn,
            storage_groups: v.storage_groups,
            policy,
            policy_group,
            snapvx_source: v.snapvx_source,
            snapvx_target: v.snapvx_target,
            masking_views: views,
            in_export_group,
            settings,
            groups,
        })
    }

    /// The policy a group with service level `slo` stands for: from its
    /// name when it is a default group of this provider, else from what
    /// it has (disabled compression counts only where the array compresses).
    async fn policy_of_group(&self, g: &StorageGroup, slo: &str) -> Result<Policy> {
        if let Some(p) = Policy::from_default_group(&g.id, slo, g.workload_type()) {
            return Ok(p);
        }
        let have = GroupSettings::of(g);
        let compression = match have.compression {
            Some(false) if self.compression_capable().await? => naming::Compression::Off,
            _ => naming::Compression::Default,
        };
        // an export's child group of a replicated volume ends in -RE
        // (before its limits' -Q part, if any)
        let replicated = g.id.ends_with("-RE")
            || g.id
                .rsplit_once("-RE-Q")
                .is_some_and(|(_, q)| q.len() == 6 && q.chars().all(|c| c.is_ascii_hexdigit()));
        Ok(Policy::new(
            g.srp.as_deref().unwrap_or(&self.settings.srp),
            Some(slo),
            g.workload_type(),
        )
        .with(compression, have.qos)
        .replicated(replicated))
    }

    /// Gives a policy's group the compression and limits the policy asks
    /// for, when someone changed them (the group is named for them, so
    /// every volume in it asks the same). Returns what the group has now.
    pub(crate) async fn ensure_group_settings(
        &self,
        sg: &str,
        p: &Policy,
    ) -> Result<Option<GroupSettings>> {
        if p.slo.is_none() {
            return Ok(None);
        }
        let Some(g) = self.api.storage_group_cached(sg).await? else {
            return Ok(None);
        };
        let mut have = GroupSettings::of(&g);
        if have.qos != p.qos {
            tracing::info!(
                storage_group = sg,
                "setting the group's host I/O limits to its policy's"
            );
            self.api
                .set_host_io_limits(sg, &limits_of(p.qos.as_ref()))
                .await?;
            have.qos = p.qos;
        }
        if let Some(want) = p.compression.choice()
            && have.compression.is_some_and(|c| c != want)
        {
            tracing::info!(
                storage_group = sg,
                compression = want,
                "setting the group's compression to its policy's"
            );
            self.api.set_compression(sg, want).await?;
            have.compression = Some(want);
        }
        Ok(Some(have))
    }

    /// The refusal for an identifier that is taken.
    fn taken(identifier: &str, devs: &[String], array: &str) -> DriverError {
        DriverError::Conflict(format!(
            "a volume named {identifier} already exists on array {array} (device {}) and is not in this Terraform state. This provider never takes over a volume it did not create. If the volume is yours (an interrupted earlier apply is the usual cause), import it: terraform import vmax_volume.<name> {}; otherwise choose another name.",
            devs.join(", "),
            devs.first().map(String::as_str).unwrap_or("<device id>")
        ))
    }

    /// create_volume: a new `size_gb` volume named `OS-<name>` in the
    /// policy's default group. Refused, before any change, when a volume
    /// already carries the identifier.
    pub async fn create_volume(
        &self,
        op: &Op,
        name: &str,
        size_gb: i64,
        p: &Policy,
    ) -> Result<VolumeInfo> {
        let mut saga = Saga::new();
        let r = self
            .create_volume_step(op, &mut saga, name, size_gb, p)
            .await;
        saga.finish(self, r).await
    }

    /// The create as one step of a larger operation: the volume and a
    /// group it had to make are recorded in `saga`.
    pub(crate) async fn create_volume_step(
        &self,
        op: &Op,
        saga: &mut Saga,
        name: &str,
        size_gb: i64,
        p: &Policy,
    ) -> Result<VolumeInfo> {
        if size_gb < 1 {
            return Err(DriverError::invalid(
                "size_gb",
                format!("size_gb must be at least 1, not {size_gb}"),
            ));
        }
        self.validate_policy(p).await?;
        op.check()?;
        let identifier = naming::volume_identifier(name);
        let sg = p.default_storage_group();
        // the identifier's lock only: creates into one group are sent
        // together (group commit, batch.rs), not one after another
        let _g = self.locks.lock_many(&[Self::ident_lock(&identifier)]).await;
        let key = format!("volume:{identifier}");
        let new = NewVolume {
            identifier: identifier.clone(),
            size_gb,
        };
        let made = self.create_batched(&sg, p, new, key.clone()).await?;
        if made.recovered {
            tracing::warn!(device = %made.dev, identifier, "taking back the volume an interrupted apply of this workspace made");
        } else {
            self.journal.device(self.array(), &key, &made.dev);
            if made.made_group {
                saga.did(Undo::DeleteGroup { sg: sg.clone() });
            }
        }
        saga.did(Undo::DeleteVolume {
            dev: made.dev.clone(),
        });
        drop(_g);
        // a group found (not made) for compression or limits is checked
        // for them; plain policies cost nothing more
        let settings = if !made.made_group
            && (p.qos.is_some() || p.compression != naming::Compression::Default)
        {
            self.ensure_group_settings(&sg, p).await?
        } else {
            None
        };
        let mut v = match made.volume {
            Some(v) => VolumeInfo::fresh(v, &sg, p),
            None => self.get_volume(&made.dev).await?.ok_or_else(|| {
                DriverError::Inconsistent(format!(
                    "volume {} was created but cannot be read back",
                    made.dev
                ))
            })?,
        };
        if settings.is_some() {
            v.settings = settings;
        }
        Ok(v)
    }

    /// A volume under `identifier` that this workspace's journal proves it
    /// made before a crash: its create's job names the device (found even
    /// when the array's lookup by identifier still lags behind).
    async fn recover_volume(
        &self,
        identifier: &str,
        key: &str,
        found: &[String],
    ) -> Result<Option<String>> {
        let array = &self.settings.array;
        let Some(entry) = self.journal.interrupted(array, key) else {
            return Ok(None);
        };
        let dev = match (&entry.device, &entry.job_id) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(job)) => match self.settled_job(job).await? {
                Some(j) if j.status == "SUCCEEDED" => {
                    let done = crate::unisphere::Done {
                        job: Some(j),
                        body: serde_json::Value::Null,
                    };
                    match done.new_device_ids().as_slice() {
                        [d] => Some(d.clone()),
                        _ => None,
                    }
                }
                Some(j) if j.status == "FAILED" => {
                    self.journal.forget(array, key);
                    None
                }
                _ => None,
            },
            (None, None) => None,
        };
        let Some(dev) = dev else { return Ok(None) };
        // the device must still carry the identifier, and be the only one
        let v = self.api.volume(&dev).await?;
        let ok = v.is_some_and(|v| v.volume_identifier.as_deref() == Some(identifier))
            && found.iter().all(|d| *d == dev);
        if ok {
            self.journal.claim(array, key);
        } else {
            self.journal.forget(array, key);
        }
        Ok(ok.then_some(dev))
    }

    /// A journal's job, waited for when it is still running (the crashed
    /// process no longer does).
    pub(crate) async fn settled_job(&self, id: &str) -> Result<Option<crate::unisphere::Job>> {
        match self.api.job(id).await? {
            Some(j) if j.status != "SUCCEEDED" && j.status != "FAILED" => {
                match self
                    .api
                    .client
                    .wait_job("wait for an interrupted create", id)
                    .await
                {
                    Ok(j) => Ok(Some(j)),
                    Err(crate::unisphere::Error::JobFailed { .. }) => Ok(self.api.job(id).await?),
                    Err(e) => Err(e.into()),
                }
            }
            other => Ok(other),
        }
    }

    /// Finds the volume this operation just made, allowing for the array's
    /// read-after-write lag. Several volumes with the identifier mean
    /// another client made one at the same moment: which is ours cannot be
    /// told, so that is an error.
    async fn find_own_volume(&self, identifier: &str) -> Result<Option<String>> {
        let deadline = tokio::time::Instant::now() + LOOKUP_LAG;
        let pace = unisphere::poll::Pace::new(Duration::from_millis(50), Duration::from_secs(2));
        unisphere::poll::poll(pace, deadline, || async {
                let found = self.find_by_identifier(identifier).await?;
                match found.as_slice() {
                    [d] => Ok(unisphere::poll::Step::Done(d.clone())),
                    [] => Ok(unisphere::poll::Step::Wait(None)),
                    many => Err(DriverError::Conflict(format!(
                        "several volumes now carry the identifier {identifier} ({}): another client created one at the same time; remove the extra one on the array, then import the right one",
                        many.join(", ")
                    ))),
                }
        })
        .await
    }

    /// Refuses growing a volume in a SnapVX session where the array would.
    pub async fn check_extend(&self, dev: &str) -> Result<()> {
        if !self.refuses_growing_snapvx() {
            return Ok(());
        }
        let filter = format!("identifier like {}", naming::MANAGED_PREFIX);
        let source = match self.api.volume_from_bulk(dev, &filter).await? {
            Some(d) => d.snapvx_source,
            None => self.api.volume(dev).await?.is_some_and(|v| v.snapvx_source),
        };
        if source {
            return Err(DriverError::invalid(
                "size_gb",
                format!(
                    "volume {dev} is a SnapVX snapshot source, and array {} (microcode {}) cannot expand a volume with snapshots; delete its vmax_snapshot resources first, or copy it to a larger volume with a source block",
                    self.settings.array, self.ucode
                ),
            ));
        }
        Ok(())
    }

    /// extend_volume: grow only. The volume is read from this command's
    /// bulk read when it has one (nothing has changed since), else alone.
    pub async fn extend_volume(&self, op: &Op, dev: &str, new_gb: i64) -> Result<()> {
        let filter = format!("identifier like {}", naming::MANAGED_PREFIX);
        let v: unisphere::Volume = match self.api.volume_from_bulk(dev, &filter).await? {
            Some(d) => d.into(),
            None => self
                .api
                .volume(dev)
                .await?
                .ok_or_else(|| DriverError::NotFound(format!("volume {dev} does not exist")))?,
        };
        let size_gb = v.size_gb();
        if (new_gb as f64) < size_gb {
            return Err(DriverError::invalid(
                "size_gb",
                format!(
                    "Your original size: {size_gb} GB is greater than: {new_gb} GB. Only Extend is supported"
                ),
            ));
        }
        if (new_gb as f64) == size_gb {
            return Ok(());
        }
        if v.snapvx_target || v.snapvx_source {
            // live links and temporary clone snapshots go first, as the seed's sync check does
            self.break_links(op, dev, false).await?;
        }
        op.check()?;
        let _g = self.locks.lock_many(&[Self::vol_lock(dev)]).await;
        self.api.expand_volume(dev, new_gb).await?;
        Ok(())
    }

    /// Renames a volume to `OS-<name>`; refused, before any change, when
    /// another volume carries that identifier.
    pub async fn rename_volume(&self, op: &Op, dev: &str, identifier: &str) -> Result<()> {
        let _g = self
            .locks
            .lock_many(&[Self::ident_lock(identifier), Self::vol_lock(dev)])
            .await;
        op.check()?;
        let others: Vec<String> = self
            .find_by_identifier(identifier)
            .await?
            .into_iter()
            .filter(|d| d != dev)
            .collect();
        if !others.is_empty() {
            return Err(DriverError::Conflict(format!(
                "cannot rename volume {dev} to {identifier}: volume {} on array {} already carries that identifier; choose another name",
                others.join(", "),
                self.array()
            )));
        }
        self.api.rename_volume(dev, identifier).await?;
        Ok(())
    }

    /// unmanage: leaves the volume and drops the managed prefix.
    pub async fn unmanage_volume(&self, op: &Op, dev: &str, bare: &str) -> Result<()> {
        let _g = self.locks.lock_many(&[Self::vol_lock(dev)]).await;
        op.check()?;
        if self.api.volume(dev).await?.is_some() {
            self.api.rename_volume(dev, bare).await?;
        }
        Ok(())
    }

    /// retype: moves a volume to the default group of `to` (same SRP), or,
    /// when exported, to the host's child group of `to` under the same
    /// parent, so the view shows it at every step. Confirms by reading back.
    pub async fn retype(&self, op: &Op, dev: &str, to: &Policy) -> Result<VolumeInfo> {
        self.validate_policy(to).await?;
        let target_default = to.default_storage_group();
        let (guards, (v, plan)) = self
            .lock_for(|| async {
                let v = self
                    .volume_in_one_read(dev)
                    .await?
                    .ok_or_else(|| DriverError::NotFound(format!("volume {dev} does not exist")))?;
                let plan = self.retype_plan(dev, &v, to)?;
                let mut names = vec![Self::vol_lock(dev), Self::sg_lock(&target_default)];
                names.extend(v.storage_groups.iter().map(|g| Self::sg_lock(g)));
                if let Some(old) = &v.policy {
                    names.push(Self::sg_lock(&old.default_storage_group()));
                }
                if let RetypePlan::Exported {
                    parent, new_child, ..
                } = &plan
                {
                    names.push(Self::sg_lock(parent));
                    names.push(Self::sg_lock(new_child));
                }
                Ok((names, (v, plan)))
            })
            .await?;
        let mut saga = Saga::new();
        let mut made_target = false;
        let r = async {
            op.check()?;
            let target = match &plan {
                RetypePlan::Exported {
                    parent,
                    old_child,
                    new_child,
                } => {
                    if old_child != new_child {
                        // made at once (usually missing); one made before
                        // is read to see whether it is nested already
                        let made = self.make_group(new_child, Some(to)).await?;
                        made_target = made;
                        let nested = if made {
                            saga.did(Undo::DeleteGroup {
                                sg: new_child.clone(),
                            });
                            false
                        } else {
                            let g = self.api.storage_group(new_child).await?.unwrap_or_default();
                            if g.parent_storage_group.iter().any(|p| p != parent) {
                                return Err(DriverError::Conflict(format!(
                                    "storage group {new_child} exists but is nested in {:?}, not in {parent}; nothing was changed",
                                    g.parent_storage_group
                                )));
                            }
                            g.parent_storage_group.contains(parent)
                        };
                        if !nested {
                            self.api.add_child(parent, new_child).await?;
                            saga.did(Undo::Unnest {
                                parent: parent.clone(),
                                child: new_child.clone(),
                            });
                        }
                        op.check()?;
                        self.move_volume(dev, old_child, new_child).await?;
                        saga.did(Undo::MoveBack {
                            dev: dev.into(),
                            from: new_child.clone(),
                            to: old_child.clone(),
                            policy: v.policy.clone(),
                        });
                        if let Some(g) = self.api.storage_group_after_change(old_child).await?
                            && g.num_of_vols == 0
                        {
                            self.api.remove_child(parent, old_child).await?;
                            not_found_ok(self.api.delete_storage_group(old_child).await)?;
                        }
                    }
                    new_child.clone()
                }
                RetypePlan::Detached { from } => {
                    // moved into the group, which is made first only when
                    // the array says it is missing
                    let into_group = |what: &'static str| {
                        let target_default = target_default.clone();
                        async move {
                            let r = match (what, from) {
                                ("move", Some(src)) => {
                                    self.move_volume(dev, src, &target_default).await
                                }
                                _ => self
                                    .api
                                    .add_volumes(&target_default, &[dev])
                                    .await
                                    .map_err(DriverError::from),
                            };
                            match r {
                                Err(DriverError::Array(e))
                                    if naming::names_missing_group(&e, &target_default) =>
                                {
                                    let m = self.make_group(&target_default, Some(to)).await?;
                                    match (what, from) {
                                        ("move", Some(src)) => {
                                            self.move_volume(dev, src, &target_default).await?
                                        }
                                        _ => self.api.add_volumes(&target_default, &[dev]).await?,
                                    }
                                    Ok::<bool, DriverError>(m)
                                }
                                Err(e) => Err(e),
                                Ok(()) => Ok(false),
                            }
                        }
                    };
                    op.check()?;
                    match from {
                        _ if v.storage_groups.contains(&target_default) => {}
                        Some(src) => {
                            // recorded first, undone last: after the volume left it
                            made_target = into_group("move").await?;
                            if made_target {
                                saga.did(Undo::DeleteGroup {
                                    sg: target_default.clone(),
                                });
                            }
                            saga.did(Undo::MoveBack {
                                dev: dev.into(),
                                from: target_default.clone(),
                                to: src.clone(),
                                policy: v.policy.clone(),
                            });
                        }
                        None => {
                            made_target = into_group("add").await?;
                            if made_target {
                                saga.did(Undo::DeleteGroup {
                                    sg: target_default.clone(),
                                });
                            }
                            saga.did(Undo::RemoveFromGroup {
                                dev: dev.into(),
                                sg: target_default.clone(),
                            });
                        }
                    }
                    // a volume also sitting in other driver-made default groups leaves them
                    for g in &v.storage_groups {
                        if Some(g) != from.as_ref()
                            && *g != target_default
                            && naming::is_default_group(g)
                        {
                            self.api.remove_volumes(g, &[dev]).await?;
                        }
                    }
                    for g in &v.storage_groups {
                        if *g != target_default && naming::is_default_group(g) {
                            self.delete_group_if_unused(g).await?;
                        }
                    }
                    target_default.clone()
                }
            };
            // a group made for the policy has its settings; one found may
            // have had them changed by someone: checked when the policy has
            // settings, or when the volume was in it already (what the
            // update is for is then the group's settings)
            let already_there = v.storage_groups.contains(&target);
            let settings = if made_target {
                Some(GroupSettings::made_for(to))
            } else if already_there
                || to.qos.is_some()
                || to.compression != naming::Compression::Default
            {
                self.ensure_group_settings(&target, to).await?
            } else {
                None
            };
            // the array made the move: the volume is where it was put
            let mut now = v.clone();
            now.settings = settings;
            now.storage_groups.retain(|g| {
                !(naming::is_default_group(g)
                    || matches!(&plan, RetypePlan::Exported { old_child, .. } if old_child == g))
            });
            if !now.storage_groups.contains(&target) {
                now.storage_groups.push(target.clone());
            }
            now.policy = Some(to.clone());
            now.policy_group = Some(target.clone());
            now.groups.clear();
            Ok(now)
        }
        .await;
        drop(guards);
        saga.finish(self, r).await
    }

    fn retype_plan(&self, dev: &str, v: &VolumeInfo, to: &Policy) -> Result<RetypePlan> {
        if let Some(pg) = &v.policy_group
            && let Some(g) = v.group(pg)
            && let Some(parent) = g.parent_storage_group.first()
        {
            let (_, h, port_group) = export::ExportNames::from_parent(parent).ok_or_else(|| {
                DriverError::Conflict(format!(
                    "volume {dev} is exported through {parent}, which this provider did not make; retype it on the array, or remove that export first"
                ))
            })?;
            return Ok(RetypePlan::Exported {
                parent: parent.clone(),
                old_child: pg.clone(),
                new_child: export::ExportNames::child(&h, &port_group, to),
            });
        }
        Ok(RetypePlan::Detached {
            from: v.policy_group.clone(),
        })
    }

    /// Puts a volume into its policy's default group (manage / recovery).
    pub async fn place_in_default_group(&self, op: &Op, dev: &str, p: &Policy) -> Result<()> {
        self.retype(op, dev, p).await.map(|_| ())
    }

    /// delete_volume: removes the volume from its groups (with this
    /// provider's export objects it was the last user of, and emptied
    /// driver-made groups), deallocates and deletes. Refused, before any
    /// change, when a view this provider did not make shows the volume or
    /// when it has user snapshots. Gone already = success.
    pub async fn delete_volume(&self, op: &Op, dev: &str) -> Result<()> {
        // 9.0 and later: one read says whether the volume is simple to
        // delete (only in its default group, in no view, no snapshots of
        // its own), and what it is linked to
        if self.api.has_move() {
            let seen = self.api.snapshot_epoch();
            let Some(pv) = self.api.private_volume(dev).await? else {
                return Ok(());
            };
            if let Some((sg, policy, links)) = self.simple_delete(&pv) {
                return self
                    .delete_simple(op, dev, &sg, &policy, &links, seen)
                    .await;
            }
        }
        let Some(v) = self.get_volume(dev).await? else {
            return Ok(());
        };
        self.check_deletable(&v)?;
        if v.snapvx_source || v.snapvx_target {
            self.break_links(op, dev, true).await?;
        }
        op.check()?;
        let lock_set = |v: &VolumeInfo| {
            let mut names = vec![Self::vol_lock(dev)];
            let mut children = Vec::new();
            for g in &v.groups {
                names.push(Self::sg_lock(&g.id));
                if let Some(parent) = g.parent_storage_group.first()
                    && let Some((n, ..)) = export::ExportNames::from_parent(parent)
                {
                    names.extend(n.lock_names());
                    children.push((g.id.clone(), n));
                }
            }
            if let Some(p) = &v.policy {
                names.push(Self::sg_lock(&p.default_storage_group()));
            }
            (names, children)
        };
        let plan = || async {
            let Some(v) = self.get_volume(dev).await? else {
                return Ok((vec![], (None, vec![])));
            };
            let (names, children) = lock_set(&v);
            Ok((names, (Some(v), children)))
        };
        // a volume only in its default group (no export) leaves it with
        // the other volumes being deleted from that group, in one request
        if let Some(p) = &v.policy
            && v.storage_groups == [p.default_storage_group()]
            && v.masking_views.is_empty()
            && !v.in_export_group
        {
            op.check()?;
            return self
                .leave_and_delete(op, dev, &p.default_storage_group(), p)
                .await;
        }
        // the read above gives the lock set (breaking links changes no
        // group); it is checked again under the locks
        let (guards, (v, children)) = self.lock_for_from(lock_set(&v).0, plan).await?;
        let Some(v) = v else { return Ok(()) };
        self.check_deletable(&v)?;
        // where the volume goes back if it cannot be deleted
        let mut put_back: Option<Policy> = None;
        let r = async {
            for sg in &v.storage_groups {
                op.check()?;
                self.api.remove_volumes(sg, &[dev]).await?;
                if Some(sg) == v.policy_group.as_ref() {
                    put_back = v.policy.clone();
                }
                match children.iter().find(|(c, _)| c == sg) {
                    Some((child, names)) => {
                        let removed = self.cleanup_export_objects(names, child).await?;
                        if removed {
                            self.cleanup_parent(names).await?;
                        }
                    }
                    // a volume group is its resource's to delete
                    None if naming::is_default_group(sg) => self.delete_group_if_unused(sg).await?,
                    None => {}
                }
            }
            op.check()?;
            self.api.free_volume(dev).await?;
            if let Err(e) = self.api.delete_volume(dev).await
                && !e.is_not_found()
            {
                return Err(e.into());
            }
            // an export may have emptied the policy's default group earlier
            if let Some(p) = &v.policy
                && !v.storage_groups.contains(&p.default_storage_group())
            {
                self.delete_group_if_unused(&p.default_storage_group())
                    .await?;
            }
            Ok(())
        }
        .await;
        drop(guards);
        if r.is_err()
            && let Some(p) = put_back
        {
            self.put_back(dev, &p).await;
        }
        r
    }

    /// What a volume's private detail says of a simple delete: its one
    /// group (a default group of a known policy) and the copies it is a
    /// target of (each complete); `None` when the delete needs the full way.
    fn simple_delete(
        &self,
        pv: &unisphere::PrivateVolume,
    ) -> Option<(String, Policy, Vec<unisphere::TargetLink>)> {
        let (sg, policy) = Self::only_in_default_group(pv)?;
        if pv.time_finder.source {
            return None;
        }
        let links: Vec<unisphere::TargetLink> = pv
            .time_finder
            .sessions
            .iter()
            .filter_map(|s| s.linked_to.clone())
            .collect();
        if pv.time_finder.target && links.is_empty()
            || links.iter().any(|l| !l.defined() || l.generation.is_none())
        {
            return None;
        }
        Some((sg, policy, links))
    }

    /// The default group and policy of a volume whose private detail shows
    /// it in exactly one group, a default group of this provider, and in
    /// no masking view.
    fn only_in_default_group(pv: &unisphere::PrivateVolume) -> Option<(String, Policy)> {
        let h = &pv.header;
        let [sg] = h.storage_groups.as_slice() else {
            return None;
        };
        if h.masking_views > 0 || !naming::is_default_group(sg) {
            return None;
        }
        let slo = h.service_level.as_deref().filter(|s| *s != "None")?;
        let wl = h.workload.as_deref().filter(|w| *w != "None");
        Policy::from_default_group(sg, slo, wl).map(|p| (sg.clone(), p))
    }

    /// A volume as [`Driver::get_volume`] says, in one read on 9.0 and
    /// later when it sits in exactly one group and in no view (the common
    /// case: in its default group, or a group of its own before import);
    /// otherwise with its groups read. Its policy comes from the private
    /// detail's service level and workload; its SRP from the group's name
    /// for a default group, else the provider's.
    pub async fn volume_in_one_read(&self, dev: &str) -> Result<Option<VolumeInfo>> {
        if self.api.has_move() {
            let Some(pv) = self.api.private_volume(dev).await? else {
                return Ok(None);
            };
            let h = &pv.header;
            if let [sg] = h.storage_groups.as_slice()
                && h.masking_views == 0
            {
                let slo = h.service_level.as_deref().filter(|s| *s != "None");
                let (policy, policy_group) = match Self::only_in_default_group(&pv) {
                    Some((g, p)) => (p, Some(g)),
                    None => {
                        let wl = h.workload.as_deref().filter(|w| *w != "None");
                        let p = Policy::new(&self.settings.srp, slo, wl);
                        // the group gives the service level; without one, only
                        // the no-SLO default group is the volume's policy group
                        let pg = (slo.is_some() || sg == naming::NO_SLO_GROUP).then(|| sg.clone());
                        (p, pg)
                    }
                };
                let tf = &pv.time_finder;
                let v = VolumeInfo {
                    device_id: h.volume_id.clone(),
                    identifier: Some(h.identifier.clone()).filter(|i| !i.is_empty()),
                    size_gb: h.cap_gb,
                    wwn: h.wwn.clone(),
                    storage_groups: vec![sg.clone()],
                    policy: Some(policy),
                    policy_group,
                    snapvx_source: tf.source,
                    snapvx_target: tf.target,
                    masking_views: vec![],
                    in_export_group: false,
                    settings: None,
                    groups: vec![],
                };
                self.remember(&v);
                return Ok(Some(v));
            }
        }
        self.get_volume(dev).await
    }

    /// Reads what the volume's policy group has (compression and host I/O
    /// limits) when the volume was read without it (import).
    pub async fn read_settings(&self, v: &mut VolumeInfo) -> Result<()> {
        if v.settings.is_none()
            && let Some(pg) = &v.policy_group
            && let Some(g) = self.api.storage_group_cached(pg).await?
        {
            v.settings = Some(GroupSettings::of(&g));
            if let Some(slo) = g.service_level() {
                v.policy = Some(self.policy_of_group(&g, slo).await?);
            }
            self.remember(v);
        }
        Ok(())
    }

    /// Keeps what a read said of a volume for this command's refresh of
    /// it (an import reads it, then Terraform refreshes it at once); any
    /// change by this process makes it stale.
    fn remember(&self, v: &VolumeInfo) {
        if let Ok(mut m) = self.described.lock() {
            m.insert(v.device_id.clone(), (self.api.change_epoch(), v.clone()));
        }
    }

    fn remembered(&self, dev: &str) -> Option<VolumeInfo> {
        let m = self.described.lock().ok()?;
        m.get(dev)
            .filter(|(e, _)| *e == self.api.change_epoch())
            .map(|(_, v)| v.clone())
    }

    /// The simple delete: unlink the complete copies this volume is a
    /// target of (terminating a clone's temporary snapshot), leave the
    /// default group with the other volumes leaving it, free, delete.
    async fn delete_simple(
        &self,
        op: &Op,
        dev: &str,
        sg: &str,
        p: &Policy,
        links: &[unisphere::TargetLink],
        seen: u64,
    ) -> Result<()> {
        for l in links {
            op.check()?;
            let generation = l.generation.unwrap_or_default();
            let _g = self.locks.lock_many(&[Self::snap_lock(&l.source)]).await;
            // a snapshot taken by this process since the read renumbers
            // the generations: then the link is looked up again
            if self.api.snapshot_epoch() != seen {
                self.unlink_if_linked(&l.source, &l.name, dev).await?;
                if l.name.starts_with("temp-") {
                    self.terminate_unlinked(&l.source, &l.name).await?;
                }
                continue;
            }
            self.api.unlink(&l.source, &l.name, generation, dev).await?;
            // a clone's temporary snapshot (its name is the clone's own)
            if l.name.starts_with("temp-") {
                match self
                    .api
                    .terminate_snapshot(&l.source, &l.name, generation)
                    .await
                {
                    Err(e) if e.is_not_found() => {}
                    Err(_) => self.terminate_unlinked(&l.source, &l.name).await?,
                    Ok(()) => {}
                }
            }
        }
        op.check()?;
        self.leave_and_delete(op, dev, sg, p).await
    }

    /// A volume only in its default group `sg` (of policy `p`) leaves it
    /// with the other volumes leaving it (one request), then is freed and
    /// deleted under its own lock; if that fails it goes back into `sg`.
    async fn leave_and_delete(&self, op: &Op, dev: &str, sg: &str, p: &Policy) -> Result<()> {
        self.leave_group(dev, sg).await?;
        let _g = self.locks.lock_many(&[Self::vol_lock(dev)]).await;
        let r = async {
            op.check()?;
            self.api.free_volume(dev).await?;
            match self.api.delete_volume(dev).await {
                Err(e) if !e.is_not_found() => Err(DriverError::from(e)),
                _ => Ok(()),
            }
        }
        .await;
        drop(_g);
        if r.is_err() {
            self.put_back(dev, p).await;
        }
        r
    }

    /// A volume whose delete failed after it left its groups goes back
    /// into its default group (never left ungrouped).
    async fn put_back(&self, dev: &str, p: &Policy) {
        let sg = p.default_storage_group();
        let _g = self
            .locks
            .lock_many(&[Self::vol_lock(dev), Self::sg_lock(&sg)])
            .await;
        if let Ok(Some(now)) = self.api.volume(dev).await
            && now.storage_groups.is_empty()
            && self.ensure_group(&sg, Some(p)).await.is_ok()
        {
            let _ = self.api.add_volumes(&sg, &[dev]).await;
        }
    }

    /// Refuses deleting a volume that a view of someone else's shows.
    fn check_deletable(&self, v: &VolumeInfo) -> Result<()> {
        let mut foreign = Vec::new();
        for g in &v.groups {
            match g.parent_storage_group.first() {
                Some(parent) if export::ExportNames::from_parent(parent).is_some() => {}
                Some(parent) => {
                    foreign.push(format!("{} (through {parent})", g.id));
                }
                None => foreign.extend(g.maskingview.iter().cloned()),
            }
        }
        if !foreign.is_empty() {
            return Err(DriverError::Conflict(format!(
                "volume {} is visible through masking view {}, which this provider did not make; remove it from that view first",
                v.device_id,
                foreign.join(", ")
            )));
        }
        Ok(())
    }
}

/// How a retype moves a volume.
enum RetypePlan {
    Detached {
        from: Option<String>,
    },
    Exported {
        parent: String,
        old_child: String,
        new_child: String,
    },
}
