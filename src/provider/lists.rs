//! Data sources that find things: `vmax_volumes`, `vmax_storage_groups`
//! and `vmax_hosts`, filtered, e.g. for `import` blocks with `for_each`.

use super::{Shared, report};
use crate::driver::lists::NameFilter;
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, DataSource, Diags, Schema, Ty, Validator, Value,
};
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

/// `<what>`, `<what>_prefix` and `<what>_regex` filter attributes.
fn name_filters(what: &str, of: &str) -> Vec<Attribute> {
    vec![
        Attribute::optional(
            what,
            Ty::String,
            &format!("Only the {of} with exactly this {what}."),
        ),
        Attribute::optional(
            &format!("{what}_prefix"),
            Ty::String,
            &format!("Only {of} whose {what} starts with this."),
        ),
        Attribute::optional(
            &format!("{what}_regex"),
            Ty::String,
            &format!(
                "Only {of} whose {what} matches this regular expression (Rust `regex` syntax, unanchored)."
            ),
        ),
        Attribute::optional(
            "managed_only",
            Ty::Bool,
            &format!(
                "Only {of} named the way this provider names its own (`OS-` prefix). Default `false`."
            ),
        ),
    ]
}

/// The name filter from the configuration; a bad regex is an error at its path.
fn name_filter(config: &Value, what: &str, diags: &mut Diags) -> Option<NameFilter> {
    let regex = match config.get(&format!("{what}_regex")).as_str() {
        Some(r) => match regex::Regex::new(r) {
            Ok(x) => Some(x),
            Err(e) => {
                diags.error_at(
                    AttrPath::attr(&format!("{what}_regex")),
                    "Invalid regular expression",
                    e.to_string(),
                );
                return None;
            }
        },
        None => None,
    };
    Some(NameFilter {
        exact: config.get(what).as_str().map(String::from),
        prefix: config
            .get(&format!("{what}_prefix"))
            .as_str()
            .map(String::from),
        regex,
    })
}

fn encode_into(
    config: &Value,
    key: &str,
    items: serde_json::Value,
    ty: &Ty,
    diags: &mut Diags,
) -> Option<Value> {
    let mut j = config.to_json().unwrap_or(serde_json::Value::Null);
    if !j.is_object() {
        j = json!({});
    }
    j[key] = items;
    j["id"] = json!(format!("{}", j[key].as_array().map_or(0, Vec::len)));
    super::data::encode(j, ty, diags)
}

// ---- vmax_volumes ------------------------------------------------------------------

pub struct VolumesData {
    shared: Arc<Shared>,
}

impl VolumesData {
    pub fn new(shared: Arc<Shared>) -> Self {
        VolumesData { shared }
    }
}

#[async_trait]
impl DataSource for VolumesData {
    fn type_name(&self) -> &'static str {
        "vmax_volumes"
    }

    fn schema(&self) -> Schema {
        let item = obj(&[
            ("id", Ty::String),
            ("identifier", Ty::String),
            ("name", Ty::String),
            ("size_gb", Ty::Number),
            ("wwn", Ty::String),
            ("service_level", Ty::String),
            ("storage_groups", Ty::list(Ty::String)),
            ("masking_views", Ty::list(Ty::String)),
            ("managed", Ty::Bool),
        ]);
        let mut attributes = vec![Attribute::computed(
            "id",
            Ty::String,
            "How many volumes matched.",
        )];
        attributes.extend(name_filters("identifier", "volumes"));
        attributes.push(Attribute::optional(
            "storage_group",
            Ty::String,
            "Only volumes directly in this storage group.",
        ));
        attributes.push(Attribute::optional(
            "service_level",
            Ty::String,
            "Only volumes of this service level (`None` for none).",
        ));
        attributes.push(Attribute::computed("volumes", Ty::list(item), "The volumes, by device id: `id`, `identifier`, `name` (the identifier without `OS-`), `size_gb`, `wwn`, `service_level`, `storage_groups`, `masking_views`, and `managed` (named the way this provider names its own)."));
        Schema {
            version: 0,
            block: Block {
                description: "Finds volumes on the array: by identifier (exact, prefix or regular expression), storage group or service level, or only those named the way this provider names its own. On Unisphere 10.x one request reads them all; before 10.0 it needs `storage_group` or `identifier`. Use it with `import` blocks and `for_each` to take volumes over.".into(),
                attributes,
                blocks: vec![],
            },
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let names = name_filter(config, "identifier", diags)?;
        let managed = config.get("managed_only").as_bool().unwrap_or(false);
        let vols = match d
            .list_volumes(
                &names,
                config.get("storage_group").as_str(),
                config.get("service_level").as_str(),
                managed,
            )
            .await
        {
            Ok(v) => v,
            Err(e) => {
                report(diags, "Cannot list volumes", &e);
                return None;
            }
        };
        let items: Vec<serde_json::Value> = vols
            .iter()
            .map(|v| {
                json!({
                    "id": v.id, "identifier": v.identifier,
                    "name": crate::driver::naming::name_from_identifier(&v.identifier),
                    "size_gb": v.size_gb, "wwn": v.wwn,
                    "service_level": v.service_level.clone().unwrap_or_else(|| "None".into()),
                    "storage_groups": v.storage_groups, "masking_views": v.masking_views,
                    "managed": v.identifier.starts_with(crate::driver::naming::MANAGED_PREFIX),
                })
            })
            .collect();
        encode_into(
            config,
            "volumes",
            json!(items),
            &self.schema().block.ty(),
            diags,
        )
    }
}

// ---- vmax_storage_groups -------------------------------------------------------------

pub struct StorageGroupsData {
    shared: Arc<Shared>,
}

impl StorageGroupsData {
    pub fn new(shared: Arc<Shared>) -> Self {
        StorageGroupsData { shared }
    }
}

#[async_trait]
impl DataSource for StorageGroupsData {
    fn type_name(&self) -> &'static str {
        "vmax_storage_groups"
    }

    fn schema(&self) -> Schema {
        let item = obj(&[
            ("name", Ty::String),
            ("service_level", Ty::String),
            ("workload", Ty::String),
            ("srp", Ty::String),
            ("num_of_volumes", Ty::Number),
            ("parents", Ty::list(Ty::String)),
            ("children", Ty::list(Ty::String)),
            ("masking_views", Ty::list(Ty::String)),
            ("compression", Ty::Bool),
            ("max_iops", Ty::Number),
            ("max_mbps", Ty::Number),
        ]);
        let mut attributes = vec![Attribute::computed(
            "id",
            Ty::String,
            "How many groups matched.",
        )];
        attributes.extend(name_filters("name", "storage groups"));
        attributes.push(Attribute::optional(
            "service_level",
            Ty::String,
            "Only groups of this service level (`None` for groups without one).",
        ));
        attributes.push(Attribute::computed("storage_groups", Ty::list(item), "The groups, by name: service level, workload, SRP, volume count, parents, children, masking views, compression and host I/O limits (null when none)."));
        Schema {
            version: 0,
            block: Block {
                description: "Finds storage groups on the array by name (exact, prefix or regular expression), service level, or only this provider's (`OS-`). One request lists the names; each matching group is read once.".into(),
                attributes,
                blocks: vec![],
            },
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let names = name_filter(config, "name", diags)?;
        let managed = config.get("managed_only").as_bool().unwrap_or(false);
        let groups = match d
            .list_groups(&names, config.get("service_level").as_str(), managed)
            .await
        {
            Ok(g) => g,
            Err(e) => {
                report(diags, "Cannot list storage groups", &e);
                return None;
            }
        };
        let items: Vec<serde_json::Value> = groups
            .iter()
            .map(|g| {
                json!({
                    "name": g.name, "service_level": g.service_level.clone().unwrap_or_else(|| "None".into()),
                    "workload": g.workload, "srp": g.srp, "num_of_volumes": g.num_of_volumes,
                    "parents": g.parents, "children": g.children, "masking_views": g.masking_views,
                    "compression": g.settings.compression,
                    "max_iops": g.settings.qos.and_then(|q| q.max_iops),
                    "max_mbps": g.settings.qos.and_then(|q| q.max_mbps),
                })
            })
            .collect();
        encode_into(
            config,
            "storage_groups",
            json!(items),
            &self.schema().block.ty(),
            diags,
        )
    }
}

// ---- vmax_hosts ----------------------------------------------------------------------

pub struct HostsData {
    shared: Arc<Shared>,
}

impl HostsData {
    pub fn new(shared: Arc<Shared>) -> Self {
        HostsData { shared }
    }
}

#[async_trait]
impl DataSource for HostsData {
    fn type_name(&self) -> &'static str {
        "vmax_hosts"
    }

    fn schema(&self) -> Schema {
        let item = obj(&[
            ("name", Ty::String),
            ("initiators", Ty::list(Ty::String)),
            ("masking_views", Ty::list(Ty::String)),
        ]);
        let mut attributes = vec![Attribute::computed(
            "id",
            Ty::String,
            "How many hosts matched.",
        )];
        attributes.extend(name_filters("name", "hosts"));
        attributes.push(
            Attribute::optional(
                "initiator",
                Ty::String,
                "Only the host holding this iSCSI initiator.",
            )
            .validate(Validator::Length(1, 223)),
        );
        attributes.push(Attribute::computed(
            "hosts",
            Ty::list(item),
            "The hosts (initiator groups), by name: their initiators and masking views.",
        ));
        Schema {
            version: 0,
            block: Block {
                description: "Finds hosts (initiator groups) on the array by name (exact, prefix or regular expression), by initiator, or only this provider's (`OS-<host>-I-IG`).".into(),
                attributes,
                blocks: vec![],
            },
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let names = name_filter(config, "name", diags)?;
        let managed = config.get("managed_only").as_bool().unwrap_or(false);
        let hosts = match d
            .list_hosts(&names, config.get("initiator").as_str(), managed)
            .await
        {
            Ok(h) => h,
            Err(e) => {
                report(diags, "Cannot list hosts", &e);
                return None;
            }
        };
        let items: Vec<serde_json::Value> = hosts
            .iter()
            .map(|h| json!({"name": h.name, "initiators": h.initiators, "masking_views": h.masking_views}))
            .collect();
        encode_into(
            config,
            "hosts",
            json!(items),
            &self.schema().block.ty(),
            diags,
        )
    }
}
