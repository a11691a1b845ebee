//! The VMAX iSCSI driver's operations as plain async functions over the
//! Unisphere client: naming, policies, storage groups, locks.
//!
//! Invariants: nothing here sees Terraform types; every change to a storage
//! group happens under that group's lock, and state is re-read after the
//! lock is taken; a failed create leaves nothing behind (or returns what it
//! made); the volume identifier `OS-<name>` is the idempotency key.

pub mod export;
pub mod locks;
pub mod naming;
pub mod snapshot;
pub mod stats;

use crate::unisphere::{self, Client, Error as ApiError, StorageGroup, Volume, VolumeId};
pub use naming::Policy;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tokio::sync::OnceCell;

/// A driver failure a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{context}: {source}")]
    Context { context: String, source: ApiError },
}

impl DriverError {
    fn ctx(context: impl Into<String>) -> impl FnOnce(ApiError) -> DriverError {
        let context = context.into();
        move |source| DriverError::Context { context, source }
    }
    pub fn is_not_found(&self) -> bool {
        match self {
            DriverError::Api(e) | DriverError::Context { source: e, .. } => e.is_not_found(),
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, DriverError>;

/// What the array says about one managed volume.
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
}

/// Driver settings from the provider block.
#[derive(Debug, Clone)]
pub struct Settings {
    pub array: String,
    pub srp: String,
    pub port_groups: Vec<String>,
}

pub struct Driver {
    pub client: Client,
    pub settings: Settings,
    locks: locks::Locks,
    slos: OnceCell<Vec<String>>,
    workloads: OnceCell<Vec<String>>,
    /// The array's microcode, learnt by `check_array`.
    ucode: std::sync::OnceLock<String>,
}

impl Driver {
    pub fn new(client: Client, settings: Settings) -> Self {
        Driver {
            client,
            settings,
            locks: locks::Locks::default(),
            slos: OnceCell::new(),
            workloads: OnceCell::new(),
            ucode: std::sync::OnceLock::new(),
        }
    }

    /// Whether the array's microcode refuses to grow a SnapVX source or
    /// target (VMAX3 microcode 5977 does; PowerMax 5978 and later do not).
    pub fn refuses_growing_snapvx(&self) -> bool {
        self.ucode.get().is_some_and(|u| u.starts_with("5977"))
    }

    /// Refuses growing a volume in a SnapVX session where the array would.
    pub async fn check_extend(&self, dev: &str) -> Result<()> {
        if !self.refuses_growing_snapvx() {
            return Ok(());
        }
        if let Some(v) = self.get_volume(dev).await?
            && v.snapvx_source
        {
            return Err(DriverError::Invalid(format!(
                "volume {dev} is a SnapVX snapshot source, and array {} (microcode {}) cannot expand a volume with snapshots; delete its vmax_snapshot resources first, or copy it to a larger volume with a source block",
                self.settings.array,
                self.ucode.get().map(String::as_str).unwrap_or("?")
            )));
        }
        Ok(())
    }

    pub fn array(&self) -> &str {
        &self.settings.array
    }

    fn sp(&self, rest: &str) -> String {
        self.client.path(&format!(
            "sloprovisioning/symmetrix/{}/{rest}",
            self.settings.array
        ))
    }

    /// Checks the array exists and is reachable.
    pub async fn check_array(&self) -> Result<unisphere::SymmetrixInfo> {
        let arrays: serde_json::Value = self
            .client
            .get("list arrays", &self.client.path("system/symmetrix"), &[])
            .await?;
        let ids: Vec<String> = arrays
            .get("symmetrixId")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if !ids.contains(&self.settings.array) {
            return Err(DriverError::Invalid(format!(
                "array {} is not managed by the Unisphere at {}; it manages: {}",
                self.settings.array,
                self.client.endpoint(),
                if ids.is_empty() {
                    "no arrays".to_string()
                } else {
                    ids.join(", ")
                }
            )));
        }
        let info: unisphere::SymmetrixInfo = self
            .client
            .get(
                "read array",
                &self
                    .client
                    .path(&format!("system/symmetrix/{}", self.settings.array)),
                &[],
            )
            .await?;
        let _ = self.ucode.set(info.ucode.clone());
        Ok(info)
    }

    pub async fn service_levels(&self) -> Result<&Vec<String>> {
        self.slos
            .get_or_try_init(|| async {
                let l: unisphere::SloList = self
                    .client
                    .get("list service levels", &self.sp("slo"), &[])
                    .await?;
                Ok::<_, DriverError>(
                    l.slo_id
                        .into_iter()
                        .filter(|s| !s.eq_ignore_ascii_case("none"))
                        .collect(),
                )
            })
            .await
    }

    pub async fn workloads(&self) -> Result<&Vec<String>> {
        self.workloads
            .get_or_try_init(|| async {
                let l: unisphere::WorkloadList = self
                    .client
                    .get("list workloads", &self.sp("workloadtype"), &[])
                    .await?;
                Ok::<_, DriverError>(
                    l.workload_id
                        .into_iter()
                        .filter(|s| !s.eq_ignore_ascii_case("none"))
                        .collect(),
                )
            })
            .await
    }

    /// Checks a policy against the array's lists; the message names the valid values.
    pub async fn validate_policy(&self, p: &Policy) -> Result<()> {
        if let Some(slo) = &p.slo {
            let slos = self.service_levels().await?;
            if !slos.iter().any(|s| s == slo) {
                return Err(DriverError::Invalid(format!(
                    "service level {slo:?} is not offered by array {}; valid values are: {}, or \"None\" for no service level",
                    self.settings.array,
                    slos.join(", ")
                )));
            }
        }
        if let Some(w) = &p.workload {
            if p.slo.is_none() {
                return Err(DriverError::Invalid(format!(
                    "workload {w:?} needs a service level; set service_level, or remove workload"
                )));
            }
            let ws = self.workloads().await?;
            if !ws.iter().any(|x| x == w) {
                return Err(DriverError::Invalid(format!(
                    "workload {w:?} is not offered by array {}; valid values are: {}",
                    self.settings.array,
                    if ws.is_empty() {
                        "none (this array has no workload types; omit workload)".to_string()
                    } else {
                        ws.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    // ---- storage groups -----------------------------------------------------

    pub async fn get_storage_group(&self, sg: &str) -> Result<Option<StorageGroup>> {
        Ok(self
            .client
            .get_opt(
                "read storage group",
                &self.sp(&format!("storagegroup/{sg}")),
            )
            .await?)
    }

    /// Creates the default group of a policy if it is missing. Caller holds the group's lock.
    async fn ensure_policy_group(&self, p: &Policy) -> Result<String> {
        let sg = p.default_storage_group();
        self.ensure_group(&sg, Some(p)).await?;
        Ok(sg)
    }

    /// Creates a storage group if it is missing: with the policy's SRP and
    /// service level, or (no policy) without either, as masking-view
    /// parents are. Made meanwhile by someone else is fine.
    pub(crate) async fn ensure_group(&self, sg: &str, p: Option<&Policy>) -> Result<()> {
        if self.get_storage_group(sg).await?.is_some() {
            return Ok(());
        }
        let mut body = json!({"srpId": "None", "storageGroupId": sg, "emulation": "FBA", "create_empty_storage_group": "true"});
        if let Some(p) = p {
            body["srpId"] = json!(p.srp);
            if let Some(slo) = &p.slo {
                let mut param = json!({"sloId": slo, "workloadSelection": p.workload.as_deref().unwrap_or("None")});
                if self.client.version_number() < 90 {
                    param["num_of_vols"] = json!(0);
                    param["volumeAttribute"] = json!({"volume_size": "0", "capacityUnit": "GB"});
                } else {
                    param["volumeAttributes"] =
                        json!([{"num_of_vols": 0, "volume_size": "0", "capacityUnit": "GB"}]);
                }
                body["sloBasedStorageGroupParam"] = json!([param]);
            }
        }
        match self
            .client
            .change(
                &format!("create storage group {sg}"),
                Method::POST,
                &self.sp("storagegroup"),
                body,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds existing volumes to a group. Caller holds the group's lock.
    pub(crate) async fn add_to_group(&self, dev: &str, sg: &str) -> Result<()> {
        let body = json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addSpecificVolumeParam": {"volumeId": [dev]}}}});
        self.client
            .change(
                &format!("add volume {dev} to {sg}"),
                Method::PUT,
                &self.sp(&format!("storagegroup/{sg}")),
                body,
            )
            .await
            .map_err(DriverError::ctx(format!(
                "adding volume {dev} to storage group {sg}"
            )))?;
        Ok(())
    }

    /// Reads a volume back and checks it sits in `group` (after a move).
    pub(crate) async fn confirm_in_group(&self, dev: &str, group: &str) -> Result<VolumeInfo> {
        let after = self.get_volume(dev).await?.ok_or_else(|| {
            DriverError::Invalid(format!("volume {dev} vanished while being moved"))
        })?;
        if !after.storage_groups.iter().any(|g| g == group) {
            return Err(DriverError::Invalid(format!(
                "volume {dev} was moved but is not in {group} afterwards (it is in {}); check the array",
                after.storage_groups.join(", ")
            )));
        }
        Ok(after)
    }

    /// Deletes a driver-made group when it is empty and in no view. Caller holds its lock.
    async fn delete_group_if_empty(&self, sg: &str) -> Result<()> {
        if !sg.starts_with(naming::MANAGED_PREFIX) {
            return Ok(());
        }
        if let Some(g) = self.get_storage_group(sg).await?
            && g.num_of_vols == 0
            && g.maskingview.is_empty()
            && g.child_storage_group.is_empty()
            && g.parent_storage_group.is_empty()
        {
            match self
                .client
                .delete(
                    &format!("delete empty storage group {sg}"),
                    &self.sp(&format!("storagegroup/{sg}")),
                    None,
                )
                .await
            {
                Ok(()) => tracing::info!(storage_group = sg, "deleted empty storage group"),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    // ---- volumes ------------------------------------------------------------

    /// Device ids of volumes with this identifier.
    pub async fn find_by_identifier(&self, identifier: &str) -> Result<Vec<String>> {
        let ids: Vec<VolumeId> = self
            .client
            .list_all(
                "find volume by identifier",
                &self.sp("volume"),
                &[("volume_identifier", identifier)],
            )
            .await?;
        Ok(ids.into_iter().map(|v| v.volume_id).collect())
    }

    pub async fn get_volume(&self, dev: &str) -> Result<Option<VolumeInfo>> {
        let Some(v): Option<Volume> = self
            .client
            .get_opt("read volume", &self.sp(&format!("volume/{dev}")))
            .await?
        else {
            return Ok(None);
        };
        let mut policy = None;
        let mut policy_group = None;
        let mut views = Vec::new();
        let mut in_export_group = false;
        for sg in &v.storage_groups {
            if let Some(g) = self.get_storage_group(sg).await? {
                views.extend(g.maskingview.iter().cloned());
                if let Some(slo) = g.service_level() {
                    in_export_group = !g.parent_storage_group.is_empty();
                    policy = Some(Policy::new(
                        g.srp.as_deref().unwrap_or(&self.settings.srp),
                        Some(slo),
                        g.workload_type(),
                    ));
                    policy_group = Some(g.id.clone());
                }
            }
        }
        if policy.is_none() && !v.storage_groups.is_empty() {
            policy = Some(Policy::new(&self.settings.srp, None, None));
            policy_group = v
                .storage_groups
                .iter()
                .find(|g| g.as_str() == "OS-no_SLO-SG")
                .cloned();
        }
        views.sort();
        views.dedup();
        Ok(Some(VolumeInfo {
            device_id: v.volume_id,
            identifier: v.volume_identifier,
            size_gb: if v.cap_mb > 0.0 {
                v.cap_mb / 1024.0
            } else {
                v.cap_gb
            },
            wwn: v.wwn,
            storage_groups: v.storage_groups,
            policy,
            policy_group,
            snapvx_source: v.snapvx_source,
            snapvx_target: v.snapvx_target,
            masking_views: views,
            in_export_group,
        }))
    }

    /// create_volume: a new `size_gb` volume named `OS-<name>` in the
    /// policy's default group. A volume already carrying the identifier (a
    /// retried apply) is adopted instead of making a second one.
    pub async fn create_volume(&self, name: &str, size_gb: i64, p: &Policy) -> Result<VolumeInfo> {
        if size_gb < 1 {
            return Err(DriverError::Invalid(format!(
                "size_gb must be at least 1, not {size_gb}"
            )));
        }
        self.validate_policy(p).await?;
        let identifier = naming::volume_identifier(name);
        let existing = self.find_by_identifier(&identifier).await?;
        match existing.as_slice() {
            [one] => {
                tracing::warn!(device = %one, identifier, "a volume with this identifier exists already; adopting it");
                return self.get_volume(one).await?.ok_or_else(|| {
                    DriverError::Invalid(format!("volume {one} vanished while being adopted"))
                });
            }
            [] => {}
            many => {
                return Err(DriverError::Invalid(format!(
                    "several volumes carry the identifier {identifier} ({}); rename or remove the extra ones, then import the right one",
                    many.join(", ")
                )));
            }
        }
        let sg = p.default_storage_group();
        let _g = self.locks.lock(&sg).await;
        self.ensure_policy_group(p).await?;
        let ident =
            json!({"identifier_name": identifier, "volumeIdentifierChoice": "identifier_name"});
        let add = if self.client.version_number() < 90 {
            json!({"num_of_vols": 1, "emulation": "FBA", "volumeIdentifier": ident,
                   "volumeAttribute": {"volume_size": size_gb.to_string(), "capacityUnit": "GB"}})
        } else {
            json!({"emulation": "FBA", "create_new_volumes": false,
                   "volumeAttributes": [{"num_of_vols": 1, "volume_size": size_gb.to_string(), "capacityUnit": "GB", "volumeIdentifier": ident}]})
        };
        let body = json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addVolumeParam": add}}});
        let op = format!("create volume {identifier} in {sg}");
        let result = self
            .client
            .change(
                &op,
                Method::PUT,
                &self.sp(&format!("storagegroup/{sg}")),
                body,
            )
            .await;
        let dev = match result {
            Ok(done) => match done.new_device_ids().as_slice() {
                [d] => Some(d.clone()),
                _ => None,
            },
            Err(e) => {
                // the change may have happened anyway (timeouts): reconcile by reading
                if let Ok(found) = self.find_by_identifier(&identifier).await
                    && let [d] = found.as_slice()
                {
                    tracing::warn!(device = %d, error = %e, "create reported an error but the volume exists; keeping it");
                    Some(d.clone())
                } else {
                    let _ = self.delete_group_if_empty(&sg).await;
                    return Err(DriverError::Context {
                        context: format!("creating volume {identifier}"),
                        source: e,
                    });
                }
            }
        };
        let dev = match dev {
            Some(d) => d,
            None => self.find_new_volume(&identifier).await?,
        };
        drop(_g);
        self.get_volume(&dev).await?.ok_or_else(|| {
            DriverError::Invalid(format!("volume {dev} was created but cannot be read back"))
        })
    }

    /// Finds a just-created volume by identifier, allowing for read-after-write lag.
    async fn find_new_volume(&self, identifier: &str) -> Result<String> {
        for attempt in 0..8u32 {
            let found = self.find_by_identifier(identifier).await?;
            match found.as_slice() {
                [d] => return Ok(d.clone()),
                [] => tokio::time::sleep(Duration::from_millis(100 << attempt.min(4))).await,
                many => {
                    return Err(DriverError::Invalid(format!(
                        "several volumes carry the identifier {identifier} ({})",
                        many.join(", ")
                    )));
                }
            }
        }
        Err(DriverError::Invalid(format!(
            "the array reported success creating {identifier} but no volume carries that identifier; check the array"
        )))
    }

    /// extend_volume: grow only.
    pub async fn extend_volume(&self, dev: &str, new_gb: i64) -> Result<()> {
        let v = self
            .get_volume(dev)
            .await?
            .ok_or_else(|| DriverError::Invalid(format!("volume {dev} does not exist")))?;
        if (new_gb as f64) < v.size_gb {
            return Err(DriverError::Invalid(format!(
                "Your original size: {} GB is greater than: {new_gb} GB. Only Extend is supported",
                v.size_gb
            )));
        }
        if (new_gb as f64) == v.size_gb {
            return Ok(());
        }
        if v.snapvx_target || v.snapvx_source {
            // live links and temporary clone snapshots go first, as the seed's sync check does
            self.break_links(dev, self.client.job_timeout(), false)
                .await?;
        }
        let body = json!({"editVolumeActionParam": {"expandVolumeParam": {"volumeAttribute": {"volume_size": new_gb.to_string(), "capacityUnit": "GB"}}}});
        self.client
            .change(
                &format!("extend volume {dev} to {new_gb} GB"),
                Method::PUT,
                &self.sp(&format!("volume/{dev}")),
                body,
            )
            .await?;
        Ok(())
    }

    /// Sets a volume's identifier (`None` clears it).
    pub async fn rename_volume(&self, dev: &str, identifier: &str) -> Result<()> {
        let body = json!({"editVolumeActionParam": {"modifyVolumeIdentifierParam": {"volumeIdentifier": {"identifier_name": identifier, "volumeIdentifierChoice": "identifier_name"}}}});
        self.client
            .change(
                &format!("rename volume {dev} to {identifier}"),
                Method::PUT,
                &self.sp(&format!("volume/{dev}")),
                body,
            )
            .await?;
        Ok(())
    }

    /// Moves volumes between groups: the array's move on 9.0 and later,
    /// add-then-remove before. Caller holds both groups' locks.
    async fn move_volume(&self, dev: &str, from: &str, to: &str) -> Result<()> {
        let op = format!("move volume {dev} from {from} to {to}");
        if self.client.version_number() >= 90 {
            let body = json!({"editStorageGroupActionParam": {"moveVolumeToStorageGroupParam": {"volumeId": [dev], "storageGroupId": to, "force": "true"}}});
            self.client
                .change(
                    &op,
                    Method::PUT,
                    &self.sp(&format!("storagegroup/{from}")),
                    body,
                )
                .await?;
        } else {
            self.remove_from_group(dev, from).await?;
            if let Err(e) = self.add_to_group(dev, to).await {
                // put it back where it was
                let _ = self.add_to_group(dev, from).await;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn remove_from_group(&self, dev: &str, sg: &str) -> Result<()> {
        let body =
            json!({"editStorageGroupActionParam": {"removeVolumeParam": {"volumeId": [dev]}}});
        self.client
            .change(
                &format!("remove volume {dev} from {sg}"),
                Method::PUT,
                &self.sp(&format!("storagegroup/{sg}")),
                body,
            )
            .await
            .map_err(DriverError::ctx(format!(
                "removing volume {dev} from storage group {sg}"
            )))?;
        Ok(())
    }

    /// retype: moves an unattached volume to the default group of `to`
    /// (same SRP), creating it if needed and deleting an emptied old one.
    /// Confirms by reading the volume's groups back.
    pub async fn retype(&self, dev: &str, to: &Policy) -> Result<VolumeInfo> {
        self.validate_policy(to).await?;
        let v = self
            .get_volume(dev)
            .await?
            .ok_or_else(|| DriverError::Invalid(format!("volume {dev} does not exist")))?;
        // an exported volume keeps its service level from its host's child
        // group: move it between that host's child groups, never leaving the view
        if let Some(pg) = &v.policy_group
            && let Some(g) = self.get_storage_group(pg).await?
            && let Some(parent) = g.parent_storage_group.first()
        {
            let after = self.retype_exported(dev, pg, parent, to).await?;
            // the old policy's default group is left empty for good: remove it
            if let Some(old) = &v.policy
                && old != to
            {
                let old_default = old.default_storage_group();
                let _g = self.locks.lock(&old_default).await;
                self.delete_group_if_empty(&old_default).await?;
            }
            return Ok(after);
        }
        let target = to.default_storage_group();
        let from: Vec<String> = v
            .storage_groups
            .iter()
            .filter(|g| **g != target)
            .cloned()
            .collect();
        let mut names: Vec<String> = from.clone();
        names.push(target.clone());
        let _guards = self.locks.lock_many(&names).await;
        self.ensure_policy_group(to).await?;
        match (v.policy_group.as_ref(), v.storage_groups.contains(&target)) {
            (_, true) => {}
            (Some(src), false) => self.move_volume(dev, src, &target).await?,
            (None, false) => self.add_to_group(dev, &target).await?,
        }
        // a volume also sitting in other driver-made default groups leaves them
        for g in from {
            if Some(&g) != v.policy_group.as_ref()
                && g.starts_with("OS-")
                && g.ends_with("-SG")
                && !g.contains("-I-")
            {
                let _ = self.remove_from_group(dev, &g).await;
            }
            self.delete_group_if_empty(&g).await?;
        }
        self.confirm_in_group(dev, &target).await
    }

    /// Puts a volume into its policy's default group (manage / recovery).
    pub async fn place_in_default_group(&self, dev: &str, p: &Policy) -> Result<()> {
        self.retype(dev, p).await.map(|_| ())
    }

    /// delete_volume: removes the volume from its groups (deleting emptied
    /// driver-made groups), deallocates and deletes. Gone already = success.
    pub async fn delete_volume(&self, dev: &str) -> Result<()> {
        let Some(v) = self.get_volume(dev).await? else {
            return Ok(());
        };
        // export groups this provider named are cleaned up as terminate
        // would: an emptied child takes its parent, view and unused host
        // with it. A view made by someone else is left to them.
        let mut export_children = Vec::new();
        let mut foreign = Vec::new();
        let mut lock_names = v.storage_groups.clone();
        for sg in &v.storage_groups {
            let Some(g) = self.get_storage_group(sg).await? else {
                continue;
            };
            if let Some(parent) = g.parent_storage_group.first() {
                match export::ExportNames::from_parent(parent) {
                    Some((names, ..)) => {
                        lock_names.extend([names.parent.clone(), names.initiator_group.clone()]);
                        export_children.push((sg.clone(), names));
                    }
                    None => foreign.extend(g.maskingview.iter().cloned()),
                }
            } else {
                foreign.extend(g.maskingview.iter().cloned());
            }
        }
        if !foreign.is_empty() {
            return Err(DriverError::Invalid(format!(
                "volume {dev} is visible through masking view {}, which this provider did not make; remove it from that view first",
                foreign.join(", ")
            )));
        }
        if v.snapvx_source || v.snapvx_target {
            self.break_links(dev, self.client.job_timeout(), true)
                .await?;
        }
        let _guards = self.locks.lock_many(&lock_names).await;
        for sg in &v.storage_groups {
            self.remove_from_group(dev, sg).await?;
            match export_children.iter().find(|(c, _)| c == sg) {
                Some((child, names)) => self.cleanup_export_objects(names, child, false).await?,
                None => self.delete_group_if_empty(sg).await?,
            }
        }
        let free = json!({"editVolumeActionParam": {"freeVolumeParam": {"free_volume": "true"}}});
        let result = async {
            self.client
                .change(
                    &format!("deallocate volume {dev}"),
                    Method::PUT,
                    &self.sp(&format!("volume/{dev}")),
                    free,
                )
                .await?;
            self.client
                .delete(
                    &format!("delete volume {dev}"),
                    &self.sp(&format!("volume/{dev}")),
                    None,
                )
                .await
        }
        .await;
        match result {
            Ok(()) | Err(ApiError::Api { status: 404, .. }) => {
                // an export may have emptied the policy's default group earlier
                if let Some(p) = &v.policy {
                    let g = p.default_storage_group();
                    if !v.storage_groups.contains(&g) {
                        let _l = self.locks.lock(&g).await;
                        self.delete_group_if_empty(&g).await?;
                    }
                }
                Ok(())
            }
            Err(e) => {
                // put it back in its default group so it is not left ungrouped
                if let Some(p) = &v.policy {
                    drop(_guards);
                    let _ = self.place_in_default_group(dev, p).await;
                }
                Err(DriverError::Context {
                    context: format!("deleting volume {dev}"),
                    source: e,
                })
            }
        }
    }
}
