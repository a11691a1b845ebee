//! Data sources: `vmax_pool` (get_volume_stats), `vmax_pools`, `vmax_volume` and
//! `vmax_port_group`.

use super::Shared;
use crate::driver::Policy;
use crate::driver::stats::{DRIVER_VERSION, PoolStats};
use crate::tfplugin::{AttrPath, Attribute, Block, Ctx, DataSource, Diags, Schema, Ty, Value};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn obj(fields: &[(&str, Ty)]) -> Ty {
    Ty::Object(
        fields
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn pool_entry_ty() -> Ty {
    obj(&[
        ("pool_name", Ty::String),
        ("location_info", Ty::String),
        ("service_level", Ty::String),
        ("workload", Ty::String),
        ("total_capacity_gb", Ty::Number),
        ("free_capacity_gb", Ty::Number),
        ("allocated_capacity_gb", Ty::Number),
        ("provisioned_capacity_gb", Ty::Number),
        ("reserved_percentage", Ty::Number),
    ])
}

fn pool_entry(p: &PoolStats) -> serde_json::Value {
    json!({
        "pool_name": p.pool_name, "location_info": p.location_info,
        "service_level": p.service_level.clone().unwrap_or_else(|| "None".into()),
        "workload": p.workload.clone().unwrap_or_else(|| "None".into()),
        "total_capacity_gb": p.total_capacity_gb, "free_capacity_gb": p.free_capacity_gb,
        "allocated_capacity_gb": p.allocated_capacity_gb, "provisioned_capacity_gb": p.provisioned_capacity_gb,
        "reserved_percentage": p.reserved_percentage,
    })
}

/// The data source's `srp`, else the provider's.
fn srp_of(config: &Value, d: &crate::driver::Driver) -> String {
    config
        .get("srp")
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| d.settings.srp.clone())
}

pub(super) fn encode(j: serde_json::Value, ty: &Ty, diags: &mut Diags) -> Option<Value> {
    match Value::from_json(&j, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.error("Cannot encode data source", format!("provider bug: {e}"));
            None
        }
    }
}

// ---- vmax_pool -----------------------------------------------------------------

/// `vmax_pool` (one pool: one SRP read and one headroom read) or, with
/// `list`, `vmax_pools` (every pool of an SRP: one SRP read and the
/// headrooms concurrently).
pub struct PoolData {
    shared: Arc<Shared>,
    list: bool,
}

impl PoolData {
    pub fn new(shared: Arc<Shared>) -> Self {
        PoolData {
            shared,
            list: false,
        }
    }

    pub fn list(shared: Arc<Shared>) -> Self {
        PoolData { shared, list: true }
    }

    fn list_schema() -> Schema {
        Schema {
            version: 0,
            block: Block {
                description: "Every valid pool of a storage resource pool (no service level; each service level alone and with each workload), with the capacity figures `vmax_pool` gives for one. One SRP read, and the headroom reads concurrently.".into(),
                attributes: vec![
                    Attribute::optional_computed("srp", Ty::String, "Storage resource pool. Default: the provider's `srp`."),
                    Attribute::computed("pools", Ty::list(pool_entry_ty()), "The pools, each with its figures."),
                ],
                blocks: vec![],
            },
        }
    }

    async fn read_list(&self, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let extras = self.shared.extras();
        let srp = srp_of(config, &d);
        if let Err(e) = d.validate_policy(&Policy::new(&srp, None, None)).await {
            super::report(diags, "Invalid pool", &e);
            return None;
        }
        let list = match d.pools(&srp).await {
            Ok(l) => l,
            Err(e) => {
                super::report(diags, "Cannot list pools", &e);
                return None;
            }
        };
        let all = match d.pools_stats(&srp, &list, extras.reserved_percentage).await {
            Ok(s) => s,
            Err(e) => {
                super::report(diags, "Cannot read pool statistics", &e);
                return None;
            }
        };
        let pools: Vec<serde_json::Value> = all.iter().map(pool_entry).collect();
        encode(
            json!({"srp": srp, "pools": pools}),
            &Self::list_schema().block.ty(),
            diags,
        )
    }
}

#[async_trait]
impl DataSource for PoolData {
    fn type_name(&self) -> &'static str {
        if self.list { "vmax_pools" } else { "vmax_pool" }
    }

    fn schema(&self) -> Schema {
        if self.list {
            return Self::list_schema();
        }
        let n = |name: &str, d: &str| Attribute::computed(name, Ty::Number, d);
        Schema {
            version: 0,
            block: Block {
                description: "Capacity of a storage pool (SRP + service level + workload), computed as the VMAX iSCSI driver's get_volume_stats does (one SRP read and one headroom read; `vmax_pools` lists every pool). Use it to check room before provisioning.".into(),
                attributes: vec![
                    Attribute::optional_computed("srp", Ty::String, "Storage resource pool. Default: the provider's `srp`."),
                    Attribute::optional("service_level", Ty::String, "Service level of the pool; omit (or `None`) for the pool without one."),
                    Attribute::optional("workload", Ty::String, "Workload of the pool; needs a service level."),
                    Attribute::computed("pool_name", Ty::String, "`<slo>+<workload>+<srp>+<array>`."),
                    Attribute::computed("location_info", Ty::String, "`<array>#<srp>#<slo>#<workload>`."),
                    n("total_capacity_gb", "The SRP's usable capacity (`total_usable_cap_gb`; `usable_total_tb` × 1024 on 9.0 and later)."),
                    n("allocated_capacity_gb", "Capacity written to in the SRP (`total_allocated_cap_gb`; `usable_used_tb` × 1024)."),
                    n("free_capacity_gb", "total − allocated; when the workload planner reports headroom for this service level and workload, headroom − allocated. Never below 0."),
                    n("provisioned_capacity_gb", "Capacity promised to volumes (`total_subscribed_cap_gb`; `subscribed_total_tb` × 1024)."),
                    Attribute::computed("headroom_capacity_gb", Ty::Number, "The workload planner's headroom for this service level and workload, or null when the array reports none."),
                    n("reserved_percentage", "The larger of the provider's `reserved_percentage` and the array's `reserved_cap_percent`."),
                    n("max_over_subscription_ratio", "The provider's `max_over_subscription_ratio`."),
                    Attribute::computed("thin_provisioning_support", Ty::Bool, "Always true: VMAX volumes are thin."),
                    Attribute::computed("thick_provisioning_support", Ty::Bool, "Always false."),
                    Attribute::computed("qos_support", Ty::Bool, "True: `vmax_volume` sets host I/O limits (its `qos` block)."),
                    Attribute::computed("compression_capable", Ty::Bool, "Whether the array compresses (All Flash arrays do); only then can `vmax_volume` choose `compression`."),
                    Attribute::computed("replication_enabled", Ty::Bool, "Whether the provider replicates volumes (its `replication` block)."),
                    Attribute::computed("replication_targets", Ty::list(Ty::String), "The remote array replicated volumes are paired with, when replication is configured."),
                    Attribute::computed("vendor_name", Ty::String, "`Dell EMC`."),
                    Attribute::computed("driver_version", Ty::String, "Version of the driver semantics implemented."),
                    Attribute::computed("storage_protocol", Ty::String, "`iSCSI`."),
                ],
                blocks: vec![],
            },
        }
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if self.list {
            return;
        }
        let none = config
            .get("service_level")
            .as_str()
            .is_none_or(|s| s.eq_ignore_ascii_case("none"));
        if none
            && config
                .get("workload")
                .as_str()
                .is_some_and(|w| !w.eq_ignore_ascii_case("none"))
        {
            diags.error_at(
                AttrPath::attr("workload"),
                "Workload needs a service level",
                "Set service_level too, or remove workload.",
            );
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        if self.list {
            return self.read_list(config, diags).await;
        }
        let d = self.shared.driver(diags)?;
        let extras = self.shared.extras();
        let srp = srp_of(config, &d);
        let p = Policy::new(
            &srp,
            config.get("service_level").as_str(),
            config.get("workload").as_str(),
        );
        if let Err(e) = d.validate_policy(&p).await {
            super::report(diags, "Invalid pool", &e);
            return None;
        }
        let stats = match d.pool_stats(&p, extras.reserved_percentage).await {
            Ok(s) => s,
            Err(e) => {
                super::report(diags, "Cannot read pool statistics", &e);
                return None;
            }
        };
        let compression_capable = match d.compression_capable().await {
            Ok(c) => c,
            Err(e) => {
                super::report(diags, "Cannot read whether the array compresses", &e);
                return None;
            }
        };
        let targets: Vec<String> = d
            .replication()
            .map(|r| vec![r.remote_array.clone()])
            .unwrap_or_default();
        let j = json!({
            "replication_enabled": !targets.is_empty(),
            "replication_targets": targets,
            "compression_capable": compression_capable,
            "srp": srp,
            "service_level": config.get("service_level").as_str(),
            "workload": config.get("workload").as_str(),
            "pool_name": stats.pool_name, "location_info": stats.location_info,
            "total_capacity_gb": stats.total_capacity_gb, "free_capacity_gb": stats.free_capacity_gb,
            "allocated_capacity_gb": stats.allocated_capacity_gb, "provisioned_capacity_gb": stats.provisioned_capacity_gb,
            "headroom_capacity_gb": stats.headroom_gb,
            "reserved_percentage": stats.reserved_percentage,
            "max_over_subscription_ratio": extras.max_over_subscription_ratio,
            "thin_provisioning_support": true, "thick_provisioning_support": false, "qos_support": true,
            "vendor_name": "Dell EMC", "driver_version": DRIVER_VERSION, "storage_protocol": "iSCSI",
        });
        encode(j, &self.schema().block.ty(), diags)
    }
}

// ---- vmax_volume (data) -------------------------------------------------------------

pub struct VolumeData {
    shared: Arc<Shared>,
}

impl VolumeData {
    pub fn new(shared: Arc<Shared>) -> Self {
        VolumeData { shared }
    }
}

#[async_trait]
impl DataSource for VolumeData {
    fn type_name(&self) -> &'static str {
        "vmax_volume"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block {
                description: "Looks up an existing volume by device id or by name (its identifier `OS-<name>`, or a bare identifier).".into(),
                attributes: vec![
                    Attribute::optional_computed("id", Ty::String, "Device id; set this or `name`."),
                    Attribute::optional_computed("name", Ty::String, "Volume name: matches the identifier `OS-<name>`, else exactly `<name>`; set this or `id`."),
                    Attribute::computed("volume_identifier", Ty::String, "The identifier on the array."),
                    Attribute::computed("size_gb", Ty::Number, "Size in GB."),
                    Attribute::computed("wwn", Ty::String, "WWN."),
                    Attribute::computed("service_level", Ty::String, "Service level, or `None`."),
                    Attribute::computed("workload", Ty::String, "Workload, or null."),
                    Attribute::computed("srp", Ty::String, "Storage resource pool."),
                    Attribute::computed("storage_groups", Ty::list(Ty::String), "Storage groups the volume sits in directly."),
                    Attribute::computed("masking_views", Ty::list(Ty::String), "Masking views the volume is visible through."),
                    Attribute::computed("snapvx_source", Ty::Bool, "Whether the volume has SnapVX snapshots."),
                    Attribute::computed("snapvx_target", Ty::Bool, "Whether the volume is linked to a snapshot."),
                ],
                blocks: vec![],
            },
        }
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        let (id, name) = (config.get("id"), config.get("name"));
        if id.is_null() == name.is_null() && !id.is_unknown() && !name.is_unknown() {
            diags.error(
                "Set exactly one of id and name",
                "Look a volume up by its device id or by its name, not both or neither.",
            );
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let dev = match (config.get("id").as_str(), config.get("name").as_str()) {
            (Some(id), _) => id.to_ascii_uppercase(),
            (None, Some(name)) => {
                let mut found = d
                    .find_by_identifier(&crate::driver::naming::volume_identifier(name))
                    .await;
                if matches!(&found, Ok(v) if v.is_empty()) {
                    found = d.find_by_identifier(name).await;
                }
                match found {
                    Ok(v) if v.len() == 1 => v[0].clone(),
                    Ok(v) if v.is_empty() => {
                        diags.error_at(AttrPath::attr("name"), "Volume not found", format!("no volume is named {name:?} (identifier OS-{name} or {name}) on array {}", d.array()));
                        return None;
                    }
                    Ok(v) => {
                        diags.error_at(
                            AttrPath::attr("name"),
                            "Name is ambiguous",
                            format!(
                                "several volumes are named {name:?}: {}; look one up by id",
                                v.join(", ")
                            ),
                        );
                        return None;
                    }
                    Err(e) => {
                        diags.error("Cannot look up volume", e.to_string());
                        return None;
                    }
                }
            }
            _ => return None,
        };
        let v = match d.refresh_volume(&dev).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                diags.error_at(
                    AttrPath::attr("id"),
                    "Volume not found",
                    format!("device {dev} does not exist on array {}", d.array()),
                );
                return None;
            }
            Err(e) => {
                diags.error("Cannot read volume", e.to_string());
                return None;
            }
        };
        let p = v
            .policy
            .clone()
            .unwrap_or_else(|| Policy::new(&d.settings.srp, None, None));
        let ident = v.identifier.clone().unwrap_or_default();
        let j = json!({
            "id": v.device_id, "name": crate::driver::naming::name_from_identifier(&ident),
            "volume_identifier": v.identifier, "size_gb": v.size_gb, "wwn": v.wwn,
            "service_level": p.slo.clone().unwrap_or_else(|| "None".into()), "workload": p.workload, "srp": p.srp,
            "storage_groups": v.storage_groups, "masking_views": v.masking_views,
            "snapvx_source": v.snapvx_source, "snapvx_target": v.snapvx_target,
        });
        encode(j, &self.schema().block.ty(), diags)
    }
}

// ---- vmax_port_group -------------------------------------------------------------

pub struct PortGroupData {
    shared: Arc<Shared>,
}

impl PortGroupData {
    pub fn new(shared: Arc<Shared>) -> Self {
        PortGroupData { shared }
    }
}

#[async_trait]
impl DataSource for PortGroupData {
    fn type_name(&self) -> &'static str {
        "vmax_port_group"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block {
                description:
                    "An iSCSI port group (created by the storage administrator) and its targets."
                        .into(),
                attributes: vec![
                    Attribute::required("name", Ty::String, "Port group name, e.g. `OS-iscsi-PG`."),
                    Attribute::computed(
                        "target_iqns",
                        Ty::list(Ty::String),
                        "Target IQN of each portal.",
                    ),
                    Attribute::computed(
                        "target_portals",
                        Ty::list(Ty::String),
                        "Each portal, `<ip>:3260`.",
                    ),
                ],
                blocks: vec![],
            },
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let name = config.get("name").as_str()?.to_string();
        match d.targets(&name).await {
            Ok(t) => encode(
                json!({"name": name, "target_iqns": t.iter().map(|x| &x.iqn).collect::<Vec<_>>(), "target_portals": t.iter().map(|x| &x.portal).collect::<Vec<_>>()}),
                &self.schema().block.ty(),
                diags,
            ),
            Err(e) => {
                diags.error_at(
                    AttrPath::attr("name"),
                    "Cannot read port group",
                    e.to_string(),
                );
                None
            }
        }
    }
}
