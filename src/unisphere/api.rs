//! Typed Unisphere calls for one array: the only place that knows paths,
//! request bodies and the differences between API versions.
//!
//! Every path segment that carries a name (storage group, host, masking
//! view, port group, volume, snapshot) is percent-encoded, so a name with a
//! space, a slash or `..` reaches the array as one segment and can never
//! address another resource. Bodies are built here from typed arguments;
//! their shapes are pinned by the tests below with the spec's JSON.
//!
//! A change whose outcome is unknown (a 503, a connection lost after the
//! request went out, a job that did not finish) is never blindly sent
//! again: [`Array::reconciled`] reads the array, takes a change it finds
//! made as done, and sends one it finds not made again (a few times).

use super::{
    ArrayList, Client, Connections, DirectorPort, Done, Error, Headroom, Host, HostList, Initiator,
    MaskingView, MaskingViewList, PortGroup, PrivateVolume, RdfGroupDetail, RdfGroupEntry,
    RdfGroupList, RdfPair, Result, SgList, SloList, Srp, StorageGroup, SymmetrixInfo, Volume,
    VolumeDetail, VolumeDetails, VolumeId, VolumeSnapshots, WorkloadList,
};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Characters escaped in a path segment: everything but unreserved ones.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b';')
    .add(b'&')
    .add(b'=')
    .add(b'+')
    .add(b'$')
    .add(b',')
    .add(b':')
    .add(b'@')
    .add(b'\'');

/// One path segment, percent-encoded; `.` and `..` are encoded too.
pub fn seg(s: &str) -> String {
    match s {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => utf8_percent_encode(s, SEGMENT).to_string(),
    }
}

/// A new volume for a storage group.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVolume {
    pub identifier: String,
    pub size_gb: i64,
}

/// The service-level part of a new storage group.
#[derive(Debug, Clone, PartialEq)]
pub struct SloParam {
    pub slo: String,
    pub workload: Option<String>,
    /// `noCompression` (compression-capable arrays only).
    pub no_compression: bool,
    /// Host I/O limits the group is made with.
    pub limits: Option<Limits>,
}

/// Host I/O limits to set: `None` = no limit (`NOLIMIT`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Limits {
    pub io_sec: Option<u32>,
    pub mb_sec: Option<u32>,
    /// `Never`, `OnFailure` or `Always`.
    pub distribution: String,
}

impl Limits {
    fn body(&self) -> Value {
        let v = |x: Option<u32>| x.map_or_else(|| "NOLIMIT".to_string(), |n| n.to_string());
        json!({"host_io_limit_io_sec": v(self.io_sec), "host_io_limit_mb_sec": v(self.mb_sec), "dynamicDistribution": self.distribution})
    }
}

/// The typed API of one array.
#[derive(Clone)]
pub struct Array {
    pub client: Client,
    pub id: String,
    cache: Arc<Mutex<Cache>>,
    /// Bumped by every removal of export structure (a view, an initiator
    /// group, a storage group, a nesting): what was checked in place
    /// before a bump is checked again.
    structure: Arc<std::sync::atomic::AtomicU64>,
    /// Cache misses are read one at a time, so that concurrent readers of
    /// one group or port read it once (single flight).
    miss: Arc<tokio::sync::Mutex<()>>,
    /// The last bulk read of volumes (enhanced API) and the epoch it was made in.
    bulk: Arc<tokio::sync::Mutex<Option<BulkRead>>>,
    /// Bumped by every SnapVX change of this process: a snapshot list read
    /// before an unchanged count is still what this process left.
    snapshots: Arc<std::sync::atomic::AtomicU64>,
    /// The last enhanced read of volumes by identifier prefix: the epoch it
    /// was made in, the prefix, and what it found.
    by_prefix: Arc<Mutex<Option<PrefixRead>>>,
}

type PrefixRead = (u64, String, Arc<Vec<VolumeDetail>>);

/// One bulk read of volumes by device id (`None`: it failed), with the
/// epoch it was made in.
type BulkRead = (u64, Option<Arc<HashMap<String, VolumeDetail>>>);

/// What this process read and has not changed since (see
/// [`Array::storage_group_cached`], [`Array::port_group`],
/// [`Array::director_port`]). Every change through [`Array`] forgets what
/// it touched after it ends; a read that was in flight meanwhile (the epoch
/// moved) is not kept, so the cache never holds what was true before one
/// of this process's own changes.
#[derive(Default)]
struct Cache {
    epoch: u64,
    groups: HashMap<String, StorageGroup>,
    /// groups whose entry is the array's answer to this process's last
    /// change to them (no read since): what that change left
    answered: HashSet<String>,
    port_groups: HashMap<String, PortGroup>,
    ports: HashMap<(String, String), DirectorPort>,
}

fn ident(name: &str) -> Value {
    json!({"identifier_name": name, "volumeIdentifierChoice": "identifier_name"})
}

/// How often a change whose outcome was unknown, and that the array shows
/// as not made, is sent again.
const RESENDS: u32 = 3;

impl Array {
    /// Sends `change`; when its outcome is unknown, asks `done` whether
    /// the array shows it made (success) or not (send again, bounded).
    pub async fn reconciled<F, Fut, C, CFut>(
        &self,
        what: &str,
        mut change: F,
        mut done: C,
    ) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<()>>,
        C: FnMut() -> CFut,
        CFut: Future<Output = Result<bool>>,
    {
        let mut resent = 0;
        loop {
            match change().await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_ambiguous() => {
                    if done().await? {
                        tracing::warn!(change = what, error = %e, "the answer was lost but the array shows the change made");
                        return Ok(());
                    }
                    // a job still running may yet make it: never send it twice
                    if resent >= RESENDS || matches!(e, Error::JobTimeout { .. }) {
                        return Err(e);
                    }
                    resent += 1;
                    tracing::warn!(change = what, error = %e, "the change was not made; sending it again");
                    tokio::time::sleep(Duration::from_millis(200 << resent)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn sg_has(&self, sg: &str, check: impl Fn(&StorageGroup) -> bool) -> Result<bool> {
        Ok(self.storage_group(sg).await?.is_some_and(|g| check(&g)))
    }

    async fn vol_in(&self, dev: &str, sg: &str) -> Result<bool> {
        Ok(self
            .volume(dev)
            .await?
            .is_some_and(|v| v.storage_groups.iter().any(|g| g == sg)))
    }

    /// A DELETE of `segs`, reconciled: gone afterwards (`read` finds
    /// nothing) is done; a resend of a delete that happened is a 404,
    /// which callers take as gone already.
    async fn delete_checked<T, C, CFut>(&self, op: &str, segs: &[&str], mut read: C) -> Result<()>
    where
        C: FnMut() -> CFut,
        CFut: Future<Output = Result<Option<T>>>,
    {
        let path = self.sp(segs);
        self.reconciled(
            op,
            || self.client.delete(op, &path, None),
            || {
                let f = read();
                async move { Ok(f.await?.is_none()) }
            },
        )
        .await
    }

    pub fn new(client: Client, id: &str) -> Self {
        Array {
            client,
            id: id.to_string(),
            cache: Arc::default(),
            structure: Arc::default(),
            miss: Arc::default(),
            bulk: Arc::default(),
            snapshots: Arc::default(),
            by_prefix: Arc::default(),
        }
    }

    /// The count of export structure removals by this process so far.
    pub fn structure_epoch(&self) -> u64 {
        self.structure.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn structure_changed(&self) {
        self.structure
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Runs a removal of export structure, with the structure epoch
    /// bumped before and after it (what was checked in place before it,
    /// or while it ran, is checked again).
    async fn structural<T>(&self, f: impl Future<Output = T>) -> T {
        self.structure_changed();
        let r = f.await;
        self.structure_changed();
        r
    }

    /// Marks that this process changed something on the array: a bulk
    /// read made before is not used again.
    fn changed(&self) {
        self.forget(Some(&[]));
    }

    /// A volume from one bulk read shared by every caller in this process
    /// (single flight: concurrent callers wait for the one read), made on
    /// Unisphere 10.x with the enhanced API and `filter`. `None` when the
    /// bulk read does not hold the volume, or there is none to be had
    /// (before 10.x, or it failed): the caller then reads the volume alone.
    /// A bulk read is never used after a change by this process.
    pub async fn volume_from_bulk(&self, dev: &str, filter: &str) -> Result<Option<VolumeDetail>> {
        if !self.has_enhanced() {
            return Ok(None);
        }
        let mut g = self.bulk.lock().await;
        let epoch = self.epoch();
        if g.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let map = match self.volume_details(Some(filter)).await {
                Ok(l) => Some(Arc::new(l.into_iter().map(|v| (v.id.clone(), v)).collect())),
                Err(e) => {
                    tracing::debug!(error = %e, "bulk read of volumes failed; reading them one by one");
                    None
                }
            };
            *g = Some((epoch, map));
        }
        Ok(g.as_ref()
            .and_then(|(_, m)| m.as_ref())
            .and_then(|m| m.get(dev).cloned()))
    }

    /// The bulk read this process made, when it made one (with `filter`
    /// covering what the caller asks) and changed nothing since; no read.
    pub async fn current_bulk(&self) -> Option<Arc<HashMap<String, VolumeDetail>>> {
        let g = self.bulk.lock().await;
        match g.as_ref() {
            Some((e, Some(m))) if *e == self.epoch() => Some(m.clone()),
            _ => None,
        }
    }

    /// The count of SnapVX changes by this process so far.
    pub fn snapshot_epoch(&self) -> u64 {
        self.snapshots.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn snapshots_changed(&self) {
        self.snapshots
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.changed();
    }

    /// The count of this process's changes (and group reads' invalidations)
    /// so far: what was read at an unchanged count is still current.
    pub fn change_epoch(&self) -> u64 {
        self.epoch()
    }

    fn epoch(&self) -> u64 {
        self.cache.lock().map(|c| c.epoch).unwrap_or(u64::MAX)
    }

    /// Forgets the groups a change touched (`None`: every group), once the
    /// change has ended, whatever its outcome.
    fn forget(&self, groups: Option<&[&str]>) {
        if let Ok(mut c) = self.cache.lock() {
            c.epoch += 1;
            match groups {
                Some(gs) => {
                    for g in gs {
                        c.groups.remove(*g);
                        c.answered.remove(*g);
                    }
                }
                None => {
                    c.groups.clear();
                    c.answered.clear();
                }
            }
        }
    }

    /// Runs a change to storage groups and forgets them afterwards.
    async fn touching<T>(&self, groups: Option<&[&str]>, f: impl Future<Output = T>) -> T {
        let r = f.await;
        self.forget(groups);
        r
    }

    fn version(&self) -> u32 {
        self.client.version_number()
    }

    /// Whether the array moves volumes between groups in one step (9.0+).
    pub fn has_move(&self) -> bool {
        self.version() >= 90
    }

    fn sp(&self, segs: &[&str]) -> String {
        let mut p = format!(
            "/{}/sloprovisioning/symmetrix/{}",
            self.client.version(),
            seg(&self.id)
        );
        for s in segs {
            p.push('/');
            p.push_str(&seg(s));
        }
        p
    }

    fn rp(&self, segs: &[&str]) -> String {
        let mut p = format!(
            "/private/{}/replication/symmetrix/{}",
            self.client.version(),
            seg(&self.id)
        );
        for s in segs {
            p.push('/');
            p.push_str(&seg(s));
        }
        p
    }

    fn sys(&self, segs: &[&str]) -> String {
        let mut p = format!("/{}/system/symmetrix", self.client.version());
        for s in segs {
            p.push('/');
            p.push_str(&seg(s));
        }
        p
    }

    // ---- system ---------------------------------------------------------------

    /// Serials of the arrays this Unisphere manages.
    pub async fn list_arrays(&self) -> Result<Vec<String>> {
        let l: ArrayList = self.client.get("list arrays", &self.sys(&[]), &[]).await?;
        Ok(l.ids)
    }

    /// The array as provisioning sees it (microcode, default SRP); `None`
    /// when this Unisphere does not manage it.
    pub async fn info(&self) -> Result<Option<SymmetrixInfo>> {
        self.client.get_opt("read array", &self.sp(&[])).await
    }

    pub async fn service_levels(&self) -> Result<Vec<String>> {
        let l: SloList = self
            .client
            .get("list service levels", &self.sp(&["slo"]), &[])
            .await?;
        Ok(l.slo_id)
    }

    pub async fn workloads(&self) -> Result<Vec<String>> {
        let l: WorkloadList = self
            .client
            .get("list workloads", &self.sp(&["workloadtype"]), &[])
            .await?;
        Ok(l.workload_id)
    }

    pub async fn srps(&self) -> Result<Vec<String>> {
        let l: Value = self
            .client
            .get("list SRPs", &self.sp(&["srp"]), &[])
            .await?;
        Ok(l["srpId"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn srp(&self, srp: &str) -> Result<Srp> {
        self.client
            .get(&format!("read SRP {srp}"), &self.sp(&["srp", srp]), &[])
            .await
    }

    /// Workload-planner headroom in GB; `None` where the array has none.
    pub async fn headroom(&self, srp: &str, slo: &str, workload: &str) -> Result<Option<f64>> {
        let path = format!(
            "/{}/wlp/symmetrix/{}/headroom",
            self.client.version(),
            seg(&self.id)
        );
        match self
            .client
            .get::<Headroom>(
                "read headroom",
                &path,
                &[("srp", srp), ("slo", slo), ("workloadtype", workload)],
            )
            .await
        {
            Ok(h) => Ok(h
                .headroom
                .and_then(|rows| rows.first().and_then(|r| r.capacity))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ---- storage groups -----------------------------------------------------

    /// A storage group as the array has it now (and kept for
    /// [`Array::storage_group_cached`]).
    pub async fn storage_group(&self, sg: &str) -> Result<Option<StorageGroup>> {
        let epoch = self.epoch();
        let g: Option<StorageGroup> = self
            .client
            .get_opt("read storage group", &self.sp(&["storagegroup", sg]))
            .await?;
        if let Ok(mut c) = self.cache.lock()
            && c.epoch == epoch
        {
            c.answered.remove(sg);
            match &g {
                Some(g) => c.groups.insert(sg.to_string(), g.clone()),
                None => c.groups.remove(sg),
            };
        }
        Ok(g)
    }

    /// A storage group as this process last read it, unless one of its
    /// own changes touched it since; read from the array otherwise. For
    /// describing volumes (service level, views); decisions that remove or
    /// refuse something read [`Array::storage_group`].
    pub async fn storage_group_cached(&self, sg: &str) -> Result<Option<StorageGroup>> {
        Ok(self.storage_group_noting(sg).await?.0)
    }

    /// [`Array::storage_group_cached`], saying whether it was read from
    /// the array just now (`true`) or is what this process read before.
    pub async fn storage_group_noting(&self, sg: &str) -> Result<(Option<StorageGroup>, bool)> {
        let cached = || {
            self.cache
                .lock()
                .ok()
                .and_then(|c| c.groups.get(sg).cloned())
        };
        if let Some(g) = cached() {
            return Ok((Some(g), false));
        }
        let _one = self.miss.lock().await;
        if let Some(g) = cached() {
            return Ok((Some(g), false));
        }
        Ok((self.storage_group(sg).await?, true))
    }

    /// Every storage group's name.
    pub async fn all_storage_groups(&self) -> Result<Vec<String>> {
        let l: SgList = self
            .client
            .get("list storage groups", &self.sp(&["storagegroup"]), &[])
            .await?;
        Ok(l.ids)
    }

    pub async fn list_storage_groups(&self, name: &str) -> Result<Vec<String>> {
        let l: SgList = self
            .client
            .get(
                "list storage groups",
                &self.sp(&["storagegroup"]),
                &[("storageGroupId", name)],
            )
            .await?;
        Ok(l.ids)
    }

    /// Creates an empty storage group: with a service level, or without
    /// (srp "None"), as masking-view parents are. A 409 is the caller's to judge.
    pub async fn create_storage_group(
        &self,
        sg: &str,
        srp: &str,
        slo: Option<&SloParam>,
    ) -> Result<()> {
        let body = self.create_sg_body(sg, srp, slo);
        let op = format!("create storage group {sg}");
        self.touching(
            Some(&[sg]),
            self.reconciled(
                &op,
                || async {
                    self.client
                        .change(&op, Method::POST, &self.sp(&["storagegroup"]), body.clone())
                        .await
                        .map(|_| ())
                },
                || async { Ok(self.storage_group(sg).await?.is_some()) },
            ),
        )
        .await
    }

    /// Makes a storage group with new volumes in it, in one job (API 90
    /// and later: the group's `volumeAttributes` name each volume). A 409
    /// (made meanwhile) is the caller's to judge.
    pub async fn create_group_with_volumes(
        &self,
        sg: &str,
        srp: &str,
        slo: &SloParam,
        vols: &[NewVolume],
        accepted: &(dyn Fn(&str) + Sync),
    ) -> Result<Done> {
        let mut body = self.create_sg_body(sg, srp, Some(slo));
        body["create_empty_storage_group"] = json!("false");
        body["sloBasedStorageGroupParam"][0]["volumeAttributes"] = vols
            .iter()
            .map(|v| json!({"num_of_vols": 1, "volume_size": v.size_gb.to_string(), "capacityUnit": "GB", "volumeIdentifier": ident(&v.identifier)}))
            .collect();
        let op = format!(
            "create storage group {sg} with volume {}",
            vols.iter()
                .map(|v| v.identifier.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.touching(
            Some(&[sg]),
            self.client.change_noting(
                &op,
                Method::POST,
                &self.sp(&["storagegroup"]),
                body,
                accepted,
            ),
        )
        .await
    }

    /// Whether the enhanced API (`/univmax/restapi/v1`, Unisphere 10.x)
    /// serves this array: one request reads many volumes.
    pub fn has_enhanced(&self) -> bool {
        self.version() >= 100
    }

    /// Volumes in one enhanced-API request (Unisphere 10.x): `filter` as
    /// the API takes it (`identifier like OS-`), `None` for every volume.
    pub async fn volume_details(&self, filter: Option<&str>) -> Result<Vec<VolumeDetail>> {
        let epoch = self.epoch();
        let found = self.volume_details_read(filter).await?;
        // a read of every volume under an identifier prefix says, until this
        // process changes something, which identifiers under it are taken
        if let Some(prefix) = filter.and_then(|f| f.strip_prefix("identifier like "))
            && !prefix.contains(',')
            && let Ok(mut k) = self.by_prefix.lock()
            && epoch == self.epoch()
        {
            *k = Some((epoch, prefix.to_string(), Arc::new(found.clone())));
        }
        Ok(found)
    }

    /// The volumes of this process's last read under an identifier prefix
    /// that covers every one of `idents`, when it changed nothing since.
    pub fn known_under(&self, idents: &[&str]) -> Option<Arc<Vec<VolumeDetail>>> {
        let k = self.by_prefix.lock().ok()?;
        let (epoch, prefix, found) = k.as_ref()?;
        (*epoch == self.epoch() && idents.iter().all(|i| i.starts_with(prefix.as_str())))
            .then(|| found.clone())
    }

    async fn volume_details_read(&self, filter: Option<&str>) -> Result<Vec<VolumeDetail>> {
        let select = "identifier,cap_mb,cap_gb,wwn,snapvx_source,snapvx_target,storage_groups.id,masking_views.id";
        let mut q = vec![("select", select)];
        if let Some(f) = filter {
            q.push(("filter", f));
        }
        let l: VolumeDetails = self
            .client
            .get(
                "read volumes (enhanced API)",
                &format!("/v1/systems/{}/volumes", seg(&self.id)),
                &q,
            )
            .await?;
        Ok(l.volumes)
    }

    fn create_sg_body(&self, sg: &str, srp: &str, slo: Option<&SloParam>) -> Value {
        let mut body = json!({"srpId": srp, "storageGroupId": sg, "emulation": "FBA", "create_empty_storage_group": "true"});
        if let Some(p) = slo {
            let mut param = json!({"sloId": p.slo, "workloadSelection": p.workload.as_deref().unwrap_or("None")});
            if p.no_compression {
                param["noCompression"] = json!(true);
            }
            if let Some(l) = &p.limits {
                param["setHostIOLimitsParam"] = l.body();
            }
            if self.version() < 90 {
                param["num_of_vols"] = json!(0);
                param["volumeAttribute"] = json!({"volume_size": "0", "capacityUnit": "GB"});
            } else {
                param["volumeAttributes"] =
                    json!([{"num_of_vols": 0, "volume_size": "0", "capacityUnit": "GB"}]);
            }
            body["sloBasedStorageGroupParam"] = json!([param]);
        }
        body
    }

    async fn edit_sg(&self, op: &str, sg: &str, action: Value) -> Result<Done> {
        let r = self
            .touching(
                Some(&[sg]),
                self.client.change(
                    op,
                    Method::PUT,
                    &self.sp(&["storagegroup", sg]),
                    json!({"editStorageGroupActionParam": action}),
                ),
            )
            .await;
        // a synchronous edit is answered with the group as it left it
        if let Ok(d) = &r
            && d.job.is_none()
            && let Ok(g) = serde_json::from_value::<StorageGroup>(d.body.clone())
            && g.id == sg
            && let Ok(mut c) = self.cache.lock()
        {
            c.answered.insert(g.id.clone());
            c.groups.insert(g.id.clone(), g);
        }
        r
    }

    /// A storage group as this process's last change to it left it, when
    /// the array answered that change with the group and nothing touched
    /// it since; read from the array otherwise. For deciding whether a
    /// group the caller just emptied (under its lock) is to be deleted.
    pub async fn storage_group_after_change(&self, sg: &str) -> Result<Option<StorageGroup>> {
        if let Ok(c) = self.cache.lock()
            && c.answered.contains(sg)
            && let Some(g) = c.groups.get(sg)
        {
            return Ok(Some(g.clone()));
        }
        self.storage_group(sg).await
    }

    /// Makes new volumes in a group in one job; the job's task text names
    /// them. `accepted` gets the job id as soon as the array takes the job.
    pub async fn create_volumes(
        &self,
        sg: &str,
        vols: &[NewVolume],
        accepted: &(dyn Fn(&str) + Sync),
    ) -> Result<Done> {
        let what = vols
            .iter()
            .map(|v| v.identifier.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let path = self.sp(&["storagegroup", sg]);
        let body = json!({"editStorageGroupActionParam": self.add_volume_action(vols)?});
        let op = format!("create volume {what} in {sg}");
        self.touching(
            Some(&[sg]),
            self.client
                .change_noting(&op, Method::PUT, &path, body, accepted),
        )
        .await
    }

    fn add_volume_action(&self, vols: &[NewVolume]) -> Result<Value> {
        let add = if self.version() < 90 {
            let [v] = vols else {
                return Err(Error::Other {
                    op: "create volumes".into(),
                    detail: "API 8.4 makes one named volume per request".into(),
                });
            };
            json!({"num_of_vols": 1, "emulation": "FBA", "volumeIdentifier": ident(&v.identifier),
                   "volumeAttribute": {"volume_size": v.size_gb.to_string(), "capacityUnit": "GB"}})
        } else {
            let attrs: Vec<Value> = vols
                .iter()
                .map(|v| json!({"num_of_vols": 1, "volume_size": v.size_gb.to_string(), "capacityUnit": "GB", "volumeIdentifier": ident(&v.identifier)}))
                .collect();
            json!({"emulation": "FBA", "create_new_volumes": false, "volumeAttributes": attrs})
        };
        Ok(json!({"expandStorageGroupParam": {"addVolumeParam": add}}))
    }

    /// An edit of a storage group, reconciled with `done`.
    async fn edit_sg_checked<C, CFut>(
        &self,
        op: &str,
        sg: &str,
        action: Value,
        done: C,
    ) -> Result<()>
    where
        C: FnMut() -> CFut,
        CFut: Future<Output = Result<bool>>,
    {
        self.reconciled(
            op,
            || async { self.edit_sg(op, sg, action.clone()).await.map(|_| ()) },
            done,
        )
        .await
    }

    /// Sets a group's host I/O limits; `NOLIMIT` for both removes them.
    pub async fn set_host_io_limits(&self, sg: &str, l: &Limits) -> Result<()> {
        self.edit_sg(
            &format!("set host I/O limits of storage group {sg}"),
            sg,
            json!({"setHostIOLimitsParam": l.body()}),
        )
        .await
        .map(|_| ())
    }

    /// Turns a group's compression on or off (compression-capable arrays).
    pub async fn set_compression(&self, sg: &str, on: bool) -> Result<()> {
        self.edit_sg(
            &format!("set compression of storage group {sg}"),
            sg,
            json!({"editCompressionParam": {"compression": on}}),
        )
        .await
        .map(|_| ())
    }

    /// Whether the array compresses: the list of compression-capable
    /// arrays (`?compressionCapable=true`) names it.
    pub async fn compression_capable(&self) -> Result<bool> {
        let l: ArrayList = self
            .client
            .get(
                "list compression-capable arrays",
                &format!("/{}/sloprovisioning/symmetrix", self.client.version()),
                &[("compressionCapable", "true")],
            )
            .await?;
        Ok(l.ids.contains(&self.id))
    }

    /// Renames a storage group (its volumes, service level and nesting
    /// stay with it); the array refuses a name that is taken.
    pub async fn rename_storage_group(&self, sg: &str, new: &str) -> Result<()> {
        let r = self
            .edit_sg(
                &format!("rename storage group {sg} to {new}"),
                sg,
                json!({"renameStorageGroupParam": {"new_storage_Group_name": new}}),
            )
            .await
            .map(|_| ());
        self.forget(Some(&[sg, new]));
        self.structure_changed();
        r
    }

    pub async fn add_volumes(&self, sg: &str, devs: &[&str]) -> Result<()> {
        self.edit_sg_checked(
            &format!("add volume {} to {sg}", devs.join(", ")),
            sg,
            json!({"expandStorageGroupParam": {"addSpecificVolumeParam": {"volumeId": devs}}}),
            || async {
                for d in devs {
                    if !self.vol_in(d, sg).await? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
        .await
    }

    pub async fn remove_volumes(&self, sg: &str, devs: &[&str]) -> Result<()> {
        self.edit_sg_checked(
            &format!("remove volume {} from {sg}", devs.join(", ")),
            sg,
            json!({"removeVolumeParam": {"volumeId": devs}}),
            || async {
                for d in devs {
                    if self.vol_in(d, sg).await? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
        .await
    }

    /// The array's atomic move (9.0 and later; see [`Array::has_move`]).
    pub async fn move_volumes(&self, from: &str, to: &str, devs: &[&str]) -> Result<()> {
        // `from` is the edited group: its answer is kept (edit_sg)
        self.touching(Some(&[to]), self.edit_sg_checked(
            &format!("move volume {} from {from} to {to}", devs.join(", ")),
            from,
            json!({"moveVolumeToStorageGroupParam": {"volumeId": devs, "storageGroupId": to, "force": "true"}}),
            || async {
                for d in devs {
                    if !self.vol_in(d, to).await? || self.vol_in(d, from).await? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )).await
    }

    pub async fn add_child(&self, parent: &str, child: &str) -> Result<()> {
        self.touching(Some(&[parent, child]), self.edit_sg_checked(
            &format!("nest {child} in {parent}"),
            parent,
            json!({"expandStorageGroupParam": {"addExistingStorageGroupParam": {"storageGroupId": [child]}}}),
            || self.sg_has(parent, |g| g.child_storage_group.iter().any(|c| c == child)),
        )).await
    }

    pub async fn remove_child(&self, parent: &str, child: &str) -> Result<()> {
        self.structural(self.touching(
            Some(&[parent, child]),
            self.edit_sg_checked(
                &format!("unnest {child} from {parent}"),
                parent,
                json!({"removeStorageGroupParam": {"storageGroupId": [child], "force": "true"}}),
                || {
                    self.sg_has(parent, |g| {
                        !g.child_storage_group.iter().any(|c| c == child)
                    })
                },
            ),
        ))
        .await
    }

    /// Deletes a group (its parents and children learn of it: every
    /// group is forgotten).
    pub async fn delete_storage_group(&self, sg: &str) -> Result<()> {
        let op = format!("delete storage group {sg}");
        self.structural(self.touching(
            None,
            self.delete_checked(&op, &["storagegroup", sg], || self.storage_group(sg)),
        ))
        .await
    }

    // ---- SRDF ---------------------------------------------------------------

    fn repl(&self, segs: &[&str]) -> String {
        let mut p = format!(
            "/{}/replication/symmetrix/{}",
            self.client.version(),
            seg(&self.id)
        );
        for s in segs {
            p.push('/');
            p.push_str(&seg(s));
        }
        p
    }

    pub async fn rdf_groups(&self) -> Result<Vec<RdfGroupEntry>> {
        let l: RdfGroupList = self
            .client
            .get("list RDF groups", &self.repl(&["rdf_group"]), &[])
            .await?;
        Ok(l.groups)
    }

    pub async fn rdf_group(&self, n: u32) -> Result<Option<RdfGroupDetail>> {
        self.client
            .get_opt("read RDF group", &self.repl(&["rdf_group", &n.to_string()]))
            .await
    }

    /// The pair of `dev` in RDF group `n`; `None` when it is not paired there.
    pub async fn rdf_pair(&self, n: u32, dev: &str) -> Result<Option<RdfPair>> {
        self.client
            .get_opt(
                "read RDF pair",
                &self.repl(&["rdf_group", &n.to_string(), "volume", dev]),
            )
            .await
    }

    /// Pairs `local` (as R1) with `remote` in group `n`, synchronously
    /// replicated and established (a job).
    pub async fn create_rdf_pair(&self, n: u32, local: &str, remote: &str) -> Result<()> {
        let body = json!({
            "deviceNameListSource": [{"name": local}], "deviceNameListTarget": [{"name": remote}],
            "replicationMode": "Synchronous", "establish": "true", "rdfType": "RDF1",
            "executionOption": "ASYNCHRONOUS",
        });
        self.client
            .change(
                &format!("pair {local} with {remote} in RDF group {n}"),
                Method::POST,
                &self.rp(&["rdf_group", &n.to_string(), "volume"]),
                body,
            )
            .await
            .map(|_| ())
    }

    /// One RDF action on the pair of `dev`: `Failover`, `Failback`,
    /// `Split`, `Suspend`, `Resume` or `Establish` (a job).
    pub async fn rdf_action(&self, n: u32, dev: &str, action: &str) -> Result<()> {
        let opts = json!({"force": "false", "symForce": "false", "star": "false", "hop2": "false", "bypass": "false"});
        let mut body = json!({"action": action, "executionOption": "ASYNCHRONOUS"});
        body[action.to_lowercase()] = opts;
        self.client
            .change(
                &format!("{} the RDF pair of {dev}", action.to_lowercase()),
                Method::PUT,
                &self.rp(&["rdf_group", &n.to_string(), "volume", dev]),
                body,
            )
            .await
            .map(|_| ())
    }

    /// Deletes the pair of `dev` (both halves).
    pub async fn delete_rdf_pair(&self, n: u32, dev: &str) -> Result<()> {
        self.client
            .request(
                &format!("delete the RDF pair of {dev}"),
                Method::DELETE,
                &self.rp(&["rdf_group", &n.to_string(), "volume", dev]),
                &[
                    ("half", "false"),
                    ("force", "true"),
                    ("symforce", "false"),
                    ("star", "false"),
                    ("bypass", "false"),
                ],
                None,
            )
            .await
            .map(|_| ())
    }

    // ---- volumes ------------------------------------------------------------

    pub async fn volume(&self, dev: &str) -> Result<Option<Volume>> {
        self.client
            .get_opt("read volume", &self.sp(&["volume", dev]))
            .await
    }

    /// A volume's private detail (9.0 and later, see [`Array::has_move`]):
    /// its groups, view count and SnapVX sessions in one read.
    pub async fn private_volume(&self, dev: &str) -> Result<Option<PrivateVolume>> {
        let path = format!(
            "/private/{}/sloprovisioning/symmetrix/{}/volume",
            self.client.version(),
            seg(&self.id)
        );
        let l: Vec<PrivateVolume> = self
            .client
            .list_all("read volume detail", &path, &[("volumeId", dev)])
            .await?;
        Ok(l.into_iter().find(|v| v.header.volume_id == dev))
    }

    /// Device ids of the volumes a filtered list query names.
    async fn volume_ids(&self, what: &str, query: &[(&str, &str)]) -> Result<Vec<String>> {
        let ids: Vec<VolumeId> = self
            .client
            .list_all(what, &self.sp(&["volume"]), query)
            .await?;
        Ok(ids.into_iter().map(|v| v.volume_id).collect())
    }

    /// Device ids of the volumes in a storage group (and its children).
    pub async fn volumes_in_group(&self, sg: &str) -> Result<Vec<String>> {
        self.volume_ids(
            "list the volumes of a storage group",
            &[("storageGroupId", sg)],
        )
        .await
    }

    /// Device ids of the volumes carrying an identifier.
    pub async fn volumes_by_identifier(&self, identifier: &str) -> Result<Vec<String>> {
        self.volume_ids(
            "find volume by identifier",
            &[("volume_identifier", identifier)],
        )
        .await
    }

    async fn edit_volume(&self, op: &str, dev: &str, action: Value) -> Result<()> {
        let r = self
            .client
            .change(
                op,
                Method::PUT,
                &self.sp(&["volume", dev]),
                json!({"editVolumeActionParam": action}),
            )
            .await
            .map(|_| ());
        self.changed();
        r
    }

    pub async fn rename_volume(&self, dev: &str, identifier: &str) -> Result<()> {
        let op = format!("rename volume {dev} to {identifier}");
        let action =
            json!({"modifyVolumeIdentifierParam": {"volumeIdentifier": ident(identifier)}});
        self.reconciled(
            &op,
            || self.edit_volume(&op, dev, action.clone()),
            || async {
                Ok(self
                    .volume(dev)
                    .await?
                    .is_some_and(|v| v.volume_identifier.as_deref() == Some(identifier)))
            },
        )
        .await
    }

    pub async fn expand_volume(&self, dev: &str, size_gb: i64) -> Result<()> {
        let op = format!("extend volume {dev} to {size_gb} GB");
        let action = json!({"expandVolumeParam": {"volumeAttribute": {"volume_size": size_gb.to_string(), "capacityUnit": "GB"}}});
        self.reconciled(
            &op,
            || self.edit_volume(&op, dev, action.clone()),
            || async {
                Ok(self
                    .volume(dev)
                    .await?
                    .is_some_and(|v| v.cap_gb + 1e-9 >= size_gb as f64))
            },
        )
        .await
    }

    /// Deallocation can be repeated: after an unknown outcome it is sent again.
    pub async fn free_volume(&self, dev: &str) -> Result<()> {
        let op = format!("deallocate volume {dev}");
        let action = json!({"freeVolumeParam": {"free_volume": "true"}});
        self.reconciled(
            &op,
            || self.edit_volume(&op, dev, action.clone()),
            || async { Ok(false) },
        )
        .await
    }

    pub async fn delete_volume(&self, dev: &str) -> Result<()> {
        let r = self
            .delete_checked(&format!("delete volume {dev}"), &["volume", dev], || {
                self.volume(dev)
            })
            .await;
        self.changed();
        r
    }

    // ---- hosts and initiators -------------------------------------------------

    pub async fn host(&self, host: &str) -> Result<Option<Host>> {
        self.client
            .get_opt("read host", &self.sp(&["host", host]))
            .await
    }

    pub async fn list_hosts(&self) -> Result<Vec<String>> {
        let l: HostList = self
            .client
            .get("list hosts", &self.sp(&["host"]), &[])
            .await?;
        Ok(l.ids)
    }

    pub async fn initiator(&self, id: &str) -> Result<Option<Initiator>> {
        self.client
            .get_opt("read initiator", &self.sp(&["initiator", id]))
            .await
    }

    pub async fn create_host(&self, host: &str, initiators: &[&str]) -> Result<()> {
        let op = format!("create initiator group {host}");
        let body = json!({"hostId": host, "initiatorId": initiators});
        self.reconciled(
            &op,
            || async {
                self.client
                    .change(&op, Method::POST, &self.sp(&["host"]), body.clone())
                    .await
                    .map(|_| ())
            },
            || async {
                Ok(self
                    .host(host)
                    .await?
                    .is_some_and(|h| h.holds_exactly(initiators)))
            },
        )
        .await
    }

    pub async fn delete_host(&self, host: &str) -> Result<()> {
        let op = format!("delete initiator group {host}");
        self.structural(self.delete_checked(&op, &["host", host], || self.host(host)))
            .await
    }

    // ---- masking views ------------------------------------------------------

    pub async fn masking_view(&self, mv: &str) -> Result<Option<MaskingView>> {
        self.client
            .get_opt("read masking view", &self.sp(&["maskingview", mv]))
            .await
    }

    pub async fn masking_views_of_host(&self, host: &str) -> Result<Vec<String>> {
        let l: MaskingViewList = self
            .client
            .get(
                "list masking views",
                &self.sp(&["maskingview"]),
                &[("host_or_host_group_name", host)],
            )
            .await?;
        Ok(l.ids)
    }

    /// The host LUN of a volume in a view; `None` when it is not visible
    /// there (or the view is gone).
    pub async fn lun(&self, mv: &str, dev: &str) -> Result<Option<u32>> {
        let c: Connections = match self
            .client
            .get(
                "read masking view connections",
                &self.sp(&["maskingview", mv, "connections"]),
                &[("volume_id", dev)],
            )
            .await
        {
            Ok(c) => c,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(c.rows
            .iter()
            .find(|r| r.volume_id == dev)
            .and_then(|r| u32::from_str_radix(&r.host_lun_address, 16).ok()))
    }

    pub async fn create_masking_view(
        &self,
        mv: &str,
        host: &str,
        pg: &str,
        sg: &str,
    ) -> Result<()> {
        let op = format!("create masking view {mv}");
        let body = json!({
            "maskingViewId": mv,
            "portGroupSelection": {"useExistingPortGroupParam": {"portGroupId": pg}},
            "hostOrHostGroupSelection": {"useExistingHostParam": {"hostId": host}},
            "storageGroupSelection": {"useExistingStorageGroupParam": {"storageGroupId": sg}},
        });
        self.touching(
            None,
            self.reconciled(
                &op,
                || async {
                    self.client
                        .change(&op, Method::POST, &self.sp(&["maskingview"]), body.clone())
                        .await
                        .map(|_| ())
                },
                || async {
                    Ok(self.masking_view(mv).await?.is_some_and(|v| {
                        v.host.as_deref() == Some(host)
                            && v.port_group == pg
                            && v.storage_group == sg
                    }))
                },
            ),
        )
        .await
    }

    pub async fn delete_masking_view(&self, mv: &str) -> Result<()> {
        let op = format!("delete masking view {mv}");
        self.structural(self.touching(
            None,
            self.delete_checked(&op, &["maskingview", mv], || self.masking_view(mv)),
        ))
        .await
    }

    // ---- ports --------------------------------------------------------------

    /// A port group, read once per process (the provider never changes
    /// port groups; they are configuration).
    pub async fn port_group(&self, pg: &str) -> Result<Option<PortGroup>> {
        let cached = || {
            self.cache
                .lock()
                .ok()
                .and_then(|c| c.port_groups.get(pg).cloned())
        };
        if let Some(g) = cached() {
            return Ok(Some(g));
        }
        let _one = self.miss.lock().await;
        if let Some(g) = cached() {
            return Ok(Some(g));
        }
        let g: Option<PortGroup> = self
            .client
            .get_opt("read port group", &self.sp(&["portgroup", pg]))
            .await?;
        if let (Some(g), Ok(mut c)) = (&g, self.cache.lock()) {
            c.port_groups.insert(pg.to_string(), g.clone());
        }
        Ok(g)
    }

    /// A director port: `{sp}/director/...` on 8.4, `/system/...` later.
    /// Read once per process: its IQN and addresses are configuration.
    pub async fn director_port(&self, director: &str, port: &str) -> Result<DirectorPort> {
        let path = if self.version() < 90 {
            self.sp(&["director", director, "port", port])
        } else {
            self.sys(&[&self.id, "director", director, "port", port])
        };
        let key = (director.to_string(), port.to_string());
        let cached = || {
            self.cache
                .lock()
                .ok()
                .and_then(|c| c.ports.get(&key).cloned())
        };
        if let Some(p) = cached() {
            return Ok(p);
        }
        let _one = self.miss.lock().await;
        if let Some(p) = cached() {
            return Ok(p);
        }
        let p: DirectorPort = self.client.get("read director port", &path, &[]).await?;
        if let Ok(mut c) = self.cache.lock() {
            c.ports.insert(key, p.clone());
        }
        Ok(p)
    }

    // ---- SnapVX -------------------------------------------------------------

    pub async fn volume_snapshots(&self, dev: &str) -> Result<Option<VolumeSnapshots>> {
        self.client
            .get_opt(
                "read volume snapshots",
                &self.rp(&["volume", dev, "snapshot"]),
            )
            .await
    }

    /// Takes a snapshot: as a job whose id goes to `accepted` first (the
    /// create journal's proof), or without one (answered when made, one
    /// request) when nobody needs the job.
    pub async fn create_snapshot(
        &self,
        dev: &str,
        name: &str,
        accepted: Option<&(dyn Fn(&str) + Sync)>,
    ) -> Result<()> {
        let op = format!("create snapshot {name} of {dev}");
        let path = self.rp(&["snapshot", name]);
        let body = json!({"deviceNameListSource": [{"name": dev}], "bothSides": "false", "star": "false", "force": "false"});
        let r = match accepted {
            Some(a) => {
                self.client
                    .change_noting(&op, Method::POST, &path, body, a)
                    .await
            }
            None => self.client.change(&op, Method::POST, &path, body).await,
        }
        .map(|_| ());
        self.snapshots_changed();
        r
    }

    /// A consistent SnapVX snapshot of every volume of a storage group.
    pub async fn create_sg_snapshot(&self, sg: &str, name: &str) -> Result<()> {
        let path = format!(
            "/{}/replication/symmetrix/{}/storagegroup/{}/snapshot",
            self.client.version(),
            seg(&self.id),
            seg(sg)
        );
        let r = self
            .client
            .change(
                &format!("snapshot storage group {sg} as {name}"),
                Method::POST,
                &path,
                json!({"snapshotName": name}),
            )
            .await
            .map(|_| ());
        self.snapshots_changed();
        r
    }

    /// A job as the array reports it now.
    pub async fn job(&self, id: &str) -> Result<Option<super::Job>> {
        self.client.job(id).await
    }

    async fn link_action(
        &self,
        action: &str,
        src: &str,
        name: &str,
        generation: u32,
        target: &str,
    ) -> Result<()> {
        let r = self
            .client
            .change(
                &format!("{action} {target} to snapshot {name} of {src}"),
                Method::PUT,
                &self.rp(&["snapshot", name]),
                json!({
                    "deviceNameListSource": [{"name": src}], "deviceNameListTarget": [{"name": target}],
                    "action": action, "generation": generation, "copy": "true", "star": "false", "force": "false",
                    "exact": "false", "remote": "false", "symforce": "false", "nocopy": "false",
                }),
            )
            .await
            .map(|_| ());
        self.snapshots_changed();
        r
    }

    /// Whether `target` is linked to some generation of `name` of `src`.
    async fn linked(&self, src: &str, name: &str, target: &str) -> Result<bool> {
        Ok(self.volume_snapshots(src).await?.is_some_and(|v| {
            v.sources
                .iter()
                .filter(|s| s.name == name)
                .any(|s| s.linked.iter().any(|l| l.target == target))
        }))
    }

    /// Links `target` to a generation of a snapshot, in copy mode.
    pub async fn link(&self, src: &str, name: &str, generation: u32, target: &str) -> Result<()> {
        self.reconciled(
            "link",
            || self.link_action("Link", src, name, generation, target),
            || self.linked(src, name, target),
        )
        .await
    }

    pub async fn unlink(&self, src: &str, name: &str, generation: u32, target: &str) -> Result<()> {
        self.reconciled(
            "unlink",
            || self.link_action("Unlink", src, name, generation, target),
            || async { Ok(!self.linked(src, name, target).await?) },
        )
        .await
    }

    /// Terminates one generation of a snapshot.
    pub async fn terminate_snapshot(&self, dev: &str, name: &str, generation: u32) -> Result<()> {
        let r = self
            .client
            .delete(
                &format!("terminate snapshot {name} of {dev}"),
                &self.rp(&["snapshot", name]),
                Some(json!({"deviceNameListSource": [{"name": dev}], "generation": generation})),
            )
            .await;
        self.snapshots_changed();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_one_segment() {
        assert_eq!(seg("OS-SRP_1-Diamond-SG"), "OS-SRP_1-Diamond-SG");
        assert_eq!(seg("../../../sim/state"), "..%2F..%2F..%2Fsim%2Fstate");
        assert_eq!(seg(".."), "%2E%2E");
        assert_eq!(seg("OS-db 01/x?y#z"), "OS-db%2001%2Fx%3Fy%23z");
        assert_eq!(
            seg("iqn.1993-08.org.debian:01:abc"),
            "iqn.1993-08.org.debian%3A01%3Aabc"
        );
    }
}
