//! Finding things on the array for `import` blocks and other lookups:
//! volumes, storage groups and hosts, filtered. On Unisphere 10.x volumes
//! come from one enhanced-API request; before, a listing needs a storage
//! group or an identifier to list by.

use super::{Driver, DriverError, GroupSettings, Result, naming};
use crate::unisphere::VolumeDetail;
use std::collections::BTreeMap;

/// How identifiers and names are matched.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub regex: Option<regex::Regex>,
}

impl NameFilter {
    pub fn matches(&self, s: &str) -> bool {
        self.exact.as_deref().is_none_or(|e| e == s)
            && self.prefix.as_deref().is_none_or(|p| s.starts_with(p))
            && self.regex.as_ref().is_none_or(|r| r.is_match(s))
    }
}

/// A volume as a listing reports it.
#[derive(Debug, Clone)]
pub struct VolumeSummary {
    pub id: String,
    pub identifier: String,
    pub size_gb: f64,
    pub wwn: String,
    pub storage_groups: Vec<String>,
    pub masking_views: Vec<String>,
    pub service_level: Option<String>,
}

/// A storage group as a listing reports it.
#[derive(Debug, Clone)]
pub struct GroupSummary {
    pub name: String,
    pub service_level: Option<String>,
    pub workload: Option<String>,
    pub srp: Option<String>,
    pub num_of_volumes: u64,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub masking_views: Vec<String>,
    pub settings: GroupSettings,
}

/// A host (initiator group) as a listing reports it.
#[derive(Debug, Clone)]
pub struct HostSummary {
    pub name: String,
    pub initiators: Vec<String>,
    pub masking_views: Vec<String>,
}

impl Driver {
    /// Volumes whose identifier passes `names`, in `storage_group` and of
    /// `service_level` when given, only managed ones (`OS-`) when asked.
    pub async fn list_volumes(
        &self,
        names: &NameFilter,
        storage_group: Option<&str>,
        service_level: Option<&str>,
        managed_only: bool,
    ) -> Result<Vec<VolumeSummary>> {
        let details: Vec<VolumeDetail> = if self.api.has_enhanced() {
            // the narrowest identifier filter the API takes
            let like = names
                .exact
                .clone()
                .or_else(|| names.prefix.clone())
                .or_else(|| managed_only.then(|| naming::MANAGED_PREFIX.to_string()));
            let filter = like.map(|l| format!("identifier like {l}"));
            self.api.volume_details(filter.as_deref()).await?
        } else {
            let devs = match (storage_group, &names.exact) {
                (Some(sg), _) => self.api.volumes_in_group(sg).await?,
                (None, Some(ident)) => self.api.volumes_by_identifier(ident).await?,
                (None, None) => {
                    return Err(DriverError::invalid(
                        "storage_group",
                        "before Unisphere 10.0 a volume listing needs storage_group or identifier (the array cannot list every volume in one request)",
                    ));
                }
            };
            let mut out = Vec::new();
            for d in devs {
                if let Some(v) = self.get_volume(&d).await? {
                    out.push(VolumeDetail {
                        id: v.device_id,
                        identifier: v.identifier,
                        cap_gb: v.size_gb,
                        cap_mb: v.size_gb * 1024.0,
                        wwn: v.wwn,
                        snapvx_source: v.snapvx_source,
                        snapvx_target: v.snapvx_target,
                        storage_groups: v
                            .storage_groups
                            .into_iter()
                            .map(|id| crate::unisphere::Ref { id })
                            .collect(),
                        masking_views: v
                            .masking_views
                            .into_iter()
                            .map(|id| crate::unisphere::Ref { id })
                            .collect(),
                    });
                }
            }
            out
        };
        let mut slo_of: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut out = Vec::new();
        for d in details {
            let ident = d.identifier.clone().unwrap_or_default();
            if !names.matches(&ident)
                || (managed_only && !ident.starts_with(naming::MANAGED_PREFIX))
            {
                continue;
            }
            let groups: Vec<String> = d.storage_groups.iter().map(|r| r.id.clone()).collect();
            if storage_group.is_some_and(|sg| !groups.iter().any(|g| g == sg)) {
                continue;
            }
            // the service level of the group that gives one
            let mut slo = None;
            for g in &groups {
                if !slo_of.contains_key(g) {
                    let level = self
                        .api
                        .storage_group_cached(g)
                        .await?
                        .and_then(|x| x.service_level().map(String::from));
                    slo_of.insert(g.clone(), level);
                }
                if let Some(Some(l)) = slo_of.get(g) {
                    slo = Some(l.clone());
                }
            }
            let level = slo.clone().unwrap_or_else(|| "None".into());
            if service_level.is_some_and(|want| want != level) {
                continue;
            }
            let size_gb = if d.cap_gb > 0.0 {
                d.cap_gb
            } else {
                d.cap_mb / 1024.0
            };
            out.push(VolumeSummary {
                id: d.id,
                identifier: ident,
                size_gb,
                wwn: d.wwn,
                storage_groups: groups,
                masking_views: d.masking_views.into_iter().map(|r| r.id).collect(),
                service_level: slo,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Storage groups whose name passes `names`, of `service_level` when
    /// given, only this provider's (`OS-`) when asked.
    pub async fn list_groups(
        &self,
        names: &NameFilter,
        service_level: Option<&str>,
        managed_only: bool,
    ) -> Result<Vec<GroupSummary>> {
        let mut out = Vec::new();
        for name in self.api.all_storage_groups().await? {
            if !names.matches(&name) || (managed_only && !name.starts_with(naming::MANAGED_PREFIX))
            {
                continue;
            }
            let Some(g) = self.api.storage_group_cached(&name).await? else {
                continue;
            };
            let level = g.service_level().unwrap_or("None");
            if service_level.is_some_and(|want| want != level) {
                continue;
            }
            out.push(GroupSummary {
                name: g.id.clone(),
                service_level: g.service_level().map(String::from),
                workload: g.workload_type().map(String::from),
                srp: g.srp.clone().filter(|s| !s.eq_ignore_ascii_case("none")),
                num_of_volumes: g.num_of_vols,
                parents: g.parent_storage_group.clone(),
                children: g.child_storage_group.clone(),
                masking_views: g.maskingview.clone(),
                settings: GroupSettings::of(&g),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Hosts (initiator groups) whose name passes `names`, holding
    /// `initiator` when given, only this provider's when asked.
    pub async fn list_hosts(
        &self,
        names: &NameFilter,
        initiator: Option<&str>,
        managed_only: bool,
    ) -> Result<Vec<HostSummary>> {
        let mut out = Vec::new();
        for name in self.api.list_hosts().await? {
            if !names.matches(&name) || (managed_only && !name.starts_with(naming::MANAGED_PREFIX))
            {
                continue;
            }
            let Some(h) = self.api.host(&name).await? else {
                continue;
            };
            // initiator ids may carry the director prefix (SE-1E:0:iqn...)
            if let Some(want) = initiator
                && !h.initiator.iter().any(|i| {
                    i.eq_ignore_ascii_case(want)
                        || i.to_ascii_lowercase()
                            .ends_with(&format!(":{}", want.to_ascii_lowercase()))
                })
            {
                continue;
            }
            out.push(HostSummary {
                name: h.id,
                initiators: h.initiator,
                masking_views: h.maskingview,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
