//! initialize_connection / terminate_connection: masking views and the
//! iSCSI connection properties.
//!
//! Object model per host and port group, with the seed's names:
//! initiator group `OS-<host>-I-IG`, masking view `OS-<host>-I-<pg>-MV`,
//! its parent group `OS-<host>-I-<pg>-SG` (no service level) and child
//! groups per policy `OS-<host>-<srp>-<slo><workload>-<pg>`. The first host
//! a volume is exported to gets it moved out of its default group into that
//! host's policy child group (the seed's behaviour). The array allows a
//! volume in only one group with a service level, so each further host sees
//! it through its own no-SLO child group `OS-<host>-No_SLO-<pg>`.

use super::naming::{self, Policy, short_host_name, short_port_group_name, truncate_middle};
use super::{Driver, DriverError, Result};
use reqwest::Method;
use serde_json::{Value, json};

/// Who connects: the seed's connector.
#[derive(Debug, Clone)]
pub struct Connector {
    pub host: String,
    pub initiator: String,
}

/// One iSCSI target portal of the port group.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub iqn: String,
    pub portal: String,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub masking_view: String,
    pub storage_group: String,
    pub parent_storage_group: String,
    pub initiator_group: String,
    pub port_group: String,
    pub host_lun_id: u32,
    pub targets: Vec<Target>,
}

/// Names of the export objects for one host and port group.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportNames {
    pub initiator_group: String,
    pub masking_view: String,
    pub parent: String,
    pub no_slo_child: String,
}

impl ExportNames {
    pub fn new(host: &str, port_group: &str) -> Self {
        let h = short_host_name(host);
        let pg = short_port_group_name(port_group);
        ExportNames {
            initiator_group: format!("OS-{h}-I-IG"),
            masking_view: format!("OS-{h}-I-{pg}-MV"),
            parent: format!("OS-{h}-I-{pg}-SG"),
            no_slo_child: format!("OS-{h}-No_SLO-{pg}"),
        }
    }

    /// The names of an export from its masking-view parent
    /// `OS-<host>-I-<pg>-SG`; `None` for a parent this provider did not name.
    pub fn from_parent(parent: &str) -> Option<(Self, String, String)> {
        let (h, pg) = parent
            .strip_prefix("OS-")?
            .strip_suffix("-SG")?
            .split_once("-I-")?;
        let names = ExportNames::new(h, pg);
        (names.parent == parent).then(|| (names, h.to_string(), pg.to_string()))
    }

    /// The child group for a policy.
    pub fn child(host: &str, port_group: &str, p: &Policy) -> String {
        let h = short_host_name(host);
        let pg = short_port_group_name(port_group);
        match &p.slo {
            None => format!("OS-{h}-No_SLO-{pg}"),
            Some(slo) => {
                let srp = truncate_middle(&p.srp, 12);
                let sw =
                    truncate_middle(&format!("{slo}{}", p.workload.as_deref().unwrap_or("")), 10);
                format!("OS-{h}-{srp}-{sw}-{pg}")
            }
        }
    }
}

fn is_iscsi_name(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    (l.starts_with("iqn.") && l.len() > 4)
        || (l.starts_with("eui.") && l.len() == 20 && l[4..].chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn check_initiator(s: &str) -> std::result::Result<(), String> {
    if is_iscsi_name(s) {
        Ok(())
    } else {
        Err(format!(
            "initiator {s:?} is not an iSCSI name: use the host's IQN (iqn.yyyy-mm.reverse.domain:identifier) or an eui. name (eui. plus 16 hex digits)"
        ))
    }
}

impl Driver {
    fn spp(&self, rest: &str) -> String {
        self.client.path(&format!(
            "sloprovisioning/symmetrix/{}/{rest}",
            self.settings.array
        ))
    }

    /// The port group to use: the one asked for, else the first configured.
    pub fn pick_port_group(&self, asked: Option<&str>) -> Result<String> {
        match asked {
            Some(p) => Ok(p.to_string()),
            None => self.settings.port_groups.first().cloned().ok_or_else(|| {
                DriverError::Invalid("no port group: set port_group on the export, or port_groups in the provider configuration".into())
            }),
        }
    }

    async fn sg_change(&self, op: &str, sg: &str, action: Value) -> Result<()> {
        self.client
            .change(
                op,
                Method::PUT,
                &self.spp(&format!("storagegroup/{sg}")),
                json!({"editStorageGroupActionParam": action}),
            )
            .await?;
        Ok(())
    }

    /// The host that holds this initiator already, if any.
    async fn host_of_initiator(&self, initiator: &str) -> Result<Option<String>> {
        let v: Option<Value> = self
            .client
            .get_opt(
                "read initiator",
                &self.spp(&format!("initiator/{initiator}")),
            )
            .await?;
        Ok(v.and_then(|v| v.get("host").and_then(Value::as_str).map(String::from)))
    }

    async fn masking_view(&self, mv: &str) -> Result<Option<Value>> {
        Ok(self
            .client
            .get_opt("read masking view", &self.spp(&format!("maskingview/{mv}")))
            .await?)
    }

    /// The host LUN of a volume in a view, if it is visible there.
    pub async fn lun_in_view(&self, mv: &str, dev: &str) -> Result<Option<u32>> {
        let v: Option<Value> = match self
            .client
            .get::<Value>(
                "read masking view connections",
                &self.spp(&format!("maskingview/{mv}/connections")),
                &[("volume_id", dev)],
            )
            .await
        {
            Ok(v) => Some(v),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        Ok(v.and_then(|v| {
            v.get("maskingViewConnection")?
                .as_array()?
                .iter()
                .find(|c| c.get("volumeId").and_then(Value::as_str) == Some(dev))
                .and_then(|c| c.get("host_lun_address").and_then(Value::as_str))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
        }))
    }

    /// The target IQNs and portals of a port group's ports.
    pub async fn targets(&self, pg: &str) -> Result<Vec<Target>> {
        let v: Value = self
            .client
            .get_opt("read port group", &self.spp(&format!("portgroup/{pg}")))
            .await?
            .ok_or_else(|| DriverError::Invalid(format!("port group {pg} does not exist on array {}; port groups are created by the storage administrator, not by this provider", self.settings.array)))?;
        let mut out = Vec::new();
        for k in v
            .get("symmetrixPortKey")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let dir = k
                .get("directorId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let port = k.get("portId").and_then(Value::as_str).unwrap_or_default();
            let port = port.rsplit(':').next().unwrap_or(port).to_string();
            let path = if self.client.version_number() < 90 {
                self.spp(&format!("director/{dir}/port/{port}"))
            } else {
                self.client.path(&format!(
                    "system/symmetrix/{}/director/{dir}/port/{port}",
                    self.settings.array
                ))
            };
            let p: Value = self.client.get("read director port", &path, &[]).await?;
            let sp = &p["symmetrixPort"];
            // some releases append ",t,0x0001" to the target name
            let iqn = sp["identifier"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .next()
                .unwrap_or_default()
                .to_string();
            for ip in sp["ip_addresses"].as_array().cloned().unwrap_or_default() {
                if let Some(ip) = ip.as_str() {
                    out.push(Target {
                        iqn: iqn.clone(),
                        portal: format!("{ip}:3260"),
                    });
                }
            }
        }
        if out.is_empty() {
            return Err(DriverError::Invalid(format!(
                "port group {pg} has no iSCSI port with an IP address"
            )));
        }
        Ok(out)
    }

    /// initialize_connection: makes `dev` visible to the connector's host
    /// through `port_group`, reusing a view that already shows it.
    pub async fn initialize_connection(
        &self,
        dev: &str,
        c: &Connector,
        port_group: &str,
    ) -> Result<Export> {
        check_initiator(&c.initiator).map_err(DriverError::Invalid)?;
        let v = self.get_volume(dev).await?.ok_or_else(|| {
            DriverError::Invalid(format!(
                "volume {dev} does not exist on array {}",
                self.settings.array
            ))
        })?;
        // the port group is never created: check it first
        let targets = self.targets(port_group).await?;
        let names = ExportNames::new(&c.host, port_group);
        let policy = v
            .policy
            .clone()
            .unwrap_or_else(|| Policy::new(&self.settings.srp, None, None));
        let policy_child = ExportNames::child(&c.host, port_group, &policy);

        let _g = self
            .locks
            .lock_many(&[
                names.initiator_group.clone(),
                names.parent.clone(),
                policy_child.clone(),
                names.no_slo_child.clone(),
                dev.to_string(),
            ])
            .await;
        // re-read after taking the locks: a parallel export may have moved it
        let v = self.get_volume(dev).await?.ok_or_else(|| {
            DriverError::Invalid(format!(
                "volume {dev} does not exist on array {}",
                self.settings.array
            ))
        })?;
        // already visible through this view?
        if self.masking_view(&names.masking_view).await?.is_some()
            && let Some(lun) = self.lun_in_view(&names.masking_view, dev).await?
        {
            let v = self.get_volume(dev).await?.unwrap_or(v);
            let child = v
                .storage_groups
                .iter()
                .find(|g| **g == policy_child || **g == names.no_slo_child)
                .cloned()
                .unwrap_or(policy_child);
            return Ok(Export {
                masking_view: names.masking_view.clone(),
                storage_group: child,
                parent_storage_group: names.parent.clone(),
                initiator_group: self
                    .host_of_initiator(&c.initiator)
                    .await?
                    .unwrap_or(names.initiator_group.clone()),
                port_group: port_group.to_string(),
                host_lun_id: lun,
                targets,
            });
        }

        // the initiator group: the host that holds the initiator, else ours
        let mut created_ig = false;
        let ig = match self.host_of_initiator(&c.initiator).await? {
            Some(h) => h,
            None => {
                let existing: Option<Value> = self
                    .client
                    .get_opt(
                        "read host",
                        &self.spp(&format!("host/{}", names.initiator_group)),
                    )
                    .await?;
                if let Some(h) = existing {
                    return Err(DriverError::Invalid(format!(
                        "initiator group {} exists for other initiators ({}); host names must be unique per initiator, or add {} to it on the array",
                        names.initiator_group,
                        h.get("initiator")
                            .map(|i| i.to_string())
                            .unwrap_or_default(),
                        c.initiator
                    )));
                }
                self.client
                    .change(
                        &format!("create initiator group {}", names.initiator_group),
                        Method::POST,
                        &self.spp("host"),
                        json!({"hostId": names.initiator_group, "initiatorId": [c.initiator]}),
                    )
                    .await?;
                created_ig = true;
                names.initiator_group.clone()
            }
        };

        // where the volume goes: the policy child if it still has its
        // service level from its default group, else the no-SLO child
        let default_group = policy.default_storage_group();
        let in_default = v.policy_group.as_deref() == Some(default_group.as_str())
            || (policy.slo.is_none() && v.storage_groups.contains(&default_group));
        // a volume still in one of this host's child groups (its view was
        // deleted on the array) goes back through that group
        let already = v
            .storage_groups
            .iter()
            .find(|g| **g == policy_child || **g == names.no_slo_child)
            .cloned();
        let child = match &already {
            Some(c) => c.clone(),
            None if in_default || v.policy_group.is_none() => policy_child.clone(),
            None => names.no_slo_child.clone(),
        };
        let child_policy = if child == policy_child {
            Some(&policy)
        } else {
            None
        };

        let result = async {
            self.ensure_group(&child, child_policy.or(Some(&Policy::new(&policy.srp, None, None)))).await?;
            self.ensure_group(&names.parent, None).await?;
            let parent = self.get_storage_group(&names.parent).await?.unwrap_or_default();
            if !parent.child_storage_group.contains(&child) {
                self.sg_change(&format!("nest {child} in {}", names.parent), &names.parent,
                    json!({"expandStorageGroupParam": {"addExistingStorageGroupParam": {"storageGroupId": [child]}}})).await?;
            }
            if already.is_none() {
                if child == policy_child && in_default {
                    self.move_volume(dev, &default_group, &child).await?;
                } else {
                    self.add_to_group(dev, &child).await?;
                }
            }
            if self.masking_view(&names.masking_view).await?.is_none() {
                self.client
                    .change(&format!("create masking view {}", names.masking_view), Method::POST, &self.spp("maskingview"), json!({
                        "maskingViewId": names.masking_view,
                        "portGroupSelection": {"useExistingPortGroupParam": {"portGroupId": port_group}},
                        "hostOrHostGroupSelection": {"useExistingHostParam": {"hostId": ig}},
                        "storageGroupSelection": {"useExistingStorageGroupParam": {"storageGroupId": names.parent}},
                    }))
                    .await?;
            }
            self.lun_in_view(&names.masking_view, dev)
                .await?
                .ok_or_else(|| DriverError::Invalid(format!("volume {dev} is not visible in {} after export", names.masking_view)))
        }
        .await;
        match result {
            Ok(lun) => Ok(Export {
                masking_view: names.masking_view.clone(),
                storage_group: child,
                parent_storage_group: names.parent.clone(),
                initiator_group: ig,
                port_group: port_group.to_string(),
                host_lun_id: lun,
                targets,
            }),
            Err(e) => {
                tracing::warn!(device = dev, error = %e, "export failed; rolling back");
                self.undo_export(
                    dev,
                    &names,
                    &child,
                    &policy,
                    created_ig.then_some(ig.as_str()),
                    already.is_none(),
                )
                .await;
                Err(e)
            }
        }
    }

    /// Best-effort rollback: the volume back in its default group, and
    /// empty objects this export made removed.
    async fn undo_export(
        &self,
        dev: &str,
        names: &ExportNames,
        child: &str,
        policy: &Policy,
        created_ig: Option<&str>,
        placed_by_us: bool,
    ) {
        if placed_by_us
            && let Ok(Some(v)) = self.get_volume(dev).await
            && v.storage_groups.iter().any(|g| g == child)
        {
            let default = policy.default_storage_group();
            if v.policy_group.as_deref() == Some(child) {
                let _ = self.ensure_policy_group(policy).await;
                let _ = self.move_volume(dev, child, &default).await;
            } else {
                let _ = self
                    .sg_change(
                        "roll back export",
                        child,
                        json!({"removeVolumeParam": {"volumeId": [dev]}}),
                    )
                    .await;
            }
        }
        let _ = self
            .cleanup_export_objects(names, child, created_ig.is_some())
            .await;
    }

    /// Removes an empty child, then an empty parent with its view, then the
    /// initiator group when no view uses it (and it is ours).
    pub(crate) async fn cleanup_export_objects(
        &self,
        names: &ExportNames,
        child: &str,
        ig_is_ours: bool,
    ) -> Result<()> {
        if let Some(g) = self.get_storage_group(child).await?
            && g.num_of_vols == 0
        {
            if g.parent_storage_group.contains(&names.parent) {
                self.sg_change(&format!("unnest {child}"), &names.parent,
                    json!({"removeStorageGroupParam": {"storageGroupId": [child], "force": "true"}})).await?;
            }
            self.client
                .delete(
                    &format!("delete storage group {child}"),
                    &self.spp(&format!("storagegroup/{child}")),
                    None,
                )
                .await
                .or_else(not_found_ok)?;
        }
        if let Some(p) = self.get_storage_group(&names.parent).await?
            && p.child_storage_group.is_empty()
        {
            if self.masking_view(&names.masking_view).await?.is_some() {
                self.client
                    .delete(
                        &format!("delete masking view {}", names.masking_view),
                        &self.spp(&format!("maskingview/{}", names.masking_view)),
                        None,
                    )
                    .await
                    .or_else(not_found_ok)?;
            }
            self.client
                .delete(
                    &format!("delete storage group {}", names.parent),
                    &self.spp(&format!("storagegroup/{}", names.parent)),
                    None,
                )
                .await
                .or_else(not_found_ok)?;
        }
        let ig: Option<Value> = self
            .client
            .get_opt(
                "read host",
                &self.spp(&format!("host/{}", names.initiator_group)),
            )
            .await?;
        if let Some(h) = ig
            && (ig_is_ours || names.initiator_group.starts_with(naming::MANAGED_PREFIX))
            && h.get("num_of_masking_views")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                == 0
        {
            self.client
                .delete(
                    &format!("delete initiator group {}", names.initiator_group),
                    &self.spp(&format!("host/{}", names.initiator_group)),
                    None,
                )
                .await
                .or_else(not_found_ok)?;
        }
        Ok(())
    }

    /// terminate_connection: only this host loses access. The volume goes
    /// back to its default group when it leaves the group that gave it its
    /// service level; emptied export objects are removed.
    pub async fn terminate_connection(
        &self,
        dev: &str,
        host: &str,
        port_group: &str,
    ) -> Result<()> {
        let names = ExportNames::new(host, port_group);
        let Some(v) = self.get_volume(dev).await? else {
            // the volume is gone; still tidy up what it left
            return self.cleanup_after(&names).await;
        };
        let children: Vec<String> = match self.get_storage_group(&names.parent).await? {
            Some(p) => p.child_storage_group,
            None => vec![],
        };
        let mut lock_names = children.clone();
        lock_names.extend([
            names.parent.clone(),
            names.initiator_group.clone(),
            dev.to_string(),
        ]);
        let _g = self.locks.lock_many(&lock_names).await;
        for child in children.iter().filter(|c| v.storage_groups.contains(c)) {
            if v.policy_group.as_deref() == Some(child.as_str()) {
                let p = v
                    .policy
                    .clone()
                    .unwrap_or_else(|| Policy::new(&self.settings.srp, None, None));
                self.ensure_policy_group(&p).await?;
                self.move_volume(dev, child, &p.default_storage_group())
                    .await?;
            } else {
                self.sg_change(
                    &format!("remove volume {dev} from {child}"),
                    child,
                    json!({"removeVolumeParam": {"volumeId": [dev]}}),
                )
                .await?;
            }
            self.cleanup_export_objects(&names, child, false).await?;
        }
        Ok(())
    }

    async fn cleanup_after(&self, names: &ExportNames) -> Result<()> {
        if let Some(p) = self.get_storage_group(&names.parent).await? {
            for c in p.child_storage_group {
                self.cleanup_export_objects(names, &c, false).await?;
            }
        }
        Ok(())
    }

    /// Retype of an exported volume: from `old_child` to the child group of
    /// the new policy under the same parent, in one move, so the masking
    /// view shows the volume at every step. Confirms by reading back.
    pub(crate) async fn retype_exported(
        &self,
        dev: &str,
        old_child: &str,
        parent: &str,
        to: &Policy,
    ) -> Result<super::VolumeInfo> {
        let (_, h, pg) = ExportNames::from_parent(parent).ok_or_else(|| {
            DriverError::Invalid(format!(
                "volume {dev} is exported through {parent}, which this provider did not make; retype it on the array, or remove the export first"
            ))
        })?;
        let (h, pg) = (h.as_str(), pg.as_str());
        let new_child = ExportNames::child(h, pg, to);
        if new_child != old_child {
            let _g = self
                .locks
                .lock_many(&[old_child.to_string(), new_child.clone(), parent.to_string()])
                .await;
            self.ensure_group(&new_child, Some(to)).await?;
            let p = self.get_storage_group(parent).await?.unwrap_or_default();
            if !p.child_storage_group.contains(&new_child) {
                self.sg_change(&format!("nest {new_child} in {parent}"), parent,
                    json!({"expandStorageGroupParam": {"addExistingStorageGroupParam": {"storageGroupId": [new_child]}}})).await?;
            }
            self.move_volume(dev, old_child, &new_child).await?;
            if let Some(g) = self.get_storage_group(old_child).await?
                && g.num_of_vols == 0
            {
                self.sg_change(&format!("unnest {old_child}"), parent,
                    json!({"removeStorageGroupParam": {"storageGroupId": [old_child], "force": "true"}})).await?;
                self.client
                    .delete(
                        &format!("delete storage group {old_child}"),
                        &self.spp(&format!("storagegroup/{old_child}")),
                        None,
                    )
                    .await
                    .or_else(not_found_ok)?;
            }
        }
        self.confirm_in_group(dev, &new_child).await
    }

    /// The child group of this host's export that holds `dev`.
    pub async fn export_child(
        &self,
        dev: &str,
        host: &str,
        port_group: &str,
    ) -> Result<Option<String>> {
        let names = ExportNames::new(host, port_group);
        let Some(p) = self.get_storage_group(&names.parent).await? else {
            return Ok(None);
        };
        let Some(v) = self.get_volume(dev).await? else {
            return Ok(None);
        };
        Ok(p.child_storage_group
            .into_iter()
            .find(|c| v.storage_groups.contains(c)))
    }

    /// Finds the export of `dev` to `host` (for import): port group and initiator.
    pub async fn find_export(&self, dev: &str, host: &str) -> Result<Option<(String, String)>> {
        let ig = format!("OS-{}-I-IG", short_host_name(host));
        let list: Value = self
            .client
            .get(
                "list masking views",
                &self.spp("maskingview"),
                &[("host_or_host_group_name", &ig)],
            )
            .await?;
        for mv in list
            .get("maskingViewId")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(mv) = mv.as_str() else { continue };
            if self.lun_in_view(mv, dev).await?.is_some()
                && let Some(view) = self.masking_view(mv).await?
            {
                let pg = view["portGroupId"].as_str().unwrap_or_default().to_string();
                let h: Value = self
                    .client
                    .get("read host", &self.spp(&format!("host/{ig}")), &[])
                    .await?;
                let ini = h["initiator"]
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                return Ok(Some((pg, ini)));
            }
        }
        Ok(None)
    }
}

fn not_found_ok(e: crate::unisphere::Error) -> std::result::Result<(), crate::unisphere::Error> {
    if e.is_not_found() { Ok(()) } else { Err(e) }
}

/// The seed's `connection_info`: `{"driver_volume_type": "iscsi", "data": {...}}`.
pub fn connection_info(
    dev: &str,
    lun: u32,
    targets: &[Target],
    multipath: bool,
    chap: Option<(&str, &str)>,
) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("target_discovered".into(), json!(true));
    if let Some(t) = targets.first() {
        data.insert("target_iqn".into(), json!(t.iqn));
        data.insert("target_portal".into(), json!(t.portal));
    }
    data.insert("target_lun".into(), json!(lun));
    data.insert("volume_id".into(), json!(dev));
    if multipath && targets.len() > 1 {
        data.insert(
            "target_iqns".into(),
            json!(targets.iter().map(|t| &t.iqn).collect::<Vec<_>>()),
        );
        data.insert(
            "target_portals".into(),
            json!(targets.iter().map(|t| &t.portal).collect::<Vec<_>>()),
        );
        data.insert("target_luns".into(), json!(vec![lun; targets.len()]));
    }
    if let Some((u, p)) = chap {
        data.insert("auth_method".into(), json!("CHAP"));
        data.insert("auth_username".into(), json!(u));
        data.insert("auth_password".into(), json!(p));
    }
    json!({"driver_volume_type": "iscsi", "data": Value::Object(data)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed() {
        let n = ExportNames::new("compute-1.example.com", "OS-iscsi-PG");
        assert_eq!(n.initiator_group, "OS-compute-1-I-IG");
        assert_eq!(n.masking_view, "OS-compute-1-I-OS-iscsi-PG-MV");
        assert_eq!(n.parent, "OS-compute-1-I-OS-iscsi-PG-SG");
        let (back, h, pg) = ExportNames::from_parent(&n.parent).unwrap();
        assert_eq!(
            (back, h.as_str(), pg.as_str()),
            (n.clone(), "compute-1", "OS-iscsi-PG")
        );
        assert!(ExportNames::from_parent("their_parent_sg").is_none());
        let p = Policy::new("SRP_1", Some("Diamond"), Some("DSS"));
        assert_eq!(
            ExportNames::child("compute-1", "OS-iscsi-PG", &p),
            "OS-compute-1-SRP_1-DiamondDSS-OS-iscsi-PG"
        );
        let p = Policy::new("SRP_1", Some("Platinum"), Some("OLTP_REP"));
        assert_eq!(
            ExportNames::child("h", "pg", &p),
            "OS-h-SRP_1-PlatiP_REP-pg"
        );
        assert_eq!(
            ExportNames::child("h", "pg", &Policy::new("SRP_1", None, None)),
            "OS-h-No_SLO-pg"
        );
    }

    #[test]
    fn initiators_are_checked() {
        assert!(check_initiator("iqn.1993-08.org.debian:01:abc").is_ok());
        assert!(check_initiator("eui.02004567A425678D").is_ok());
        assert!(check_initiator("10000090fa1b2c3d").is_err());
        assert!(check_initiator("iqn.").is_err());
    }

    #[test]
    fn connection_info_matches_the_seed_shape() {
        let t = vec![
            Target {
                iqn: "iqn.a".into(),
                portal: "192.0.2.10:3260".into(),
            },
            Target {
                iqn: "iqn.b".into(),
                portal: "192.0.2.11:3260".into(),
            },
        ];
        let single = connection_info("0001A", 1, &t, false, None);
        assert_eq!(
            single,
            json!({"driver_volume_type": "iscsi", "data": {"target_discovered": true, "target_iqn": "iqn.a", "target_portal": "192.0.2.10:3260", "target_lun": 1, "volume_id": "0001A"}})
        );
        let multi = connection_info("0001A", 2, &t, true, Some(("u", "s")));
        assert_eq!(multi["data"]["target_luns"], json!([2, 2]));
        assert_eq!(
            multi["data"]["target_portals"],
            json!(["192.0.2.10:3260", "192.0.2.11:3260"])
        );
        assert_eq!(multi["data"]["auth_method"], "CHAP");
    }
}
