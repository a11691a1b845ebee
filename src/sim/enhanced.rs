//! The enhanced API of Unisphere 10.x (PyU4V's `volumes` and
//! `storage_groups` modules): `GET /univmax/restapi/v1/systems/{array}/volumes`
//! and `/storage-groups`, with `select=` (attributes to return, nested ones
//! as `a.b`) and `filter=` (comma-separated `attr op value`, operators
//! `eq ne gt ge lt le like ilike`). Attribute names follow PyU4V 10.4's
//! `utils/constants.py` (VOLUMES_METADATA, STORAGEGROUP_META_DATA); an
//! attribute or operator outside them is a 400 that names it. Without
//! `select`, only `id` is returned, as the real API does.

use super::model::{Array, SimError, SimResult, Volume};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Top-level volume attributes (VOLUMES_METADATA).
pub const VOLUME_ATTRS: &[&str] = &[
    "id",
    "resource_type",
    "type",
    "system",
    "emulation",
    "status",
    "identifier",
    "ssid",
    "nguid",
    "wwn",
    "effective_wwn",
    "has_effective_wwn",
    "mobility_id_enabled",
    "encapsulated",
    "snapvx_source",
    "snapvx_target",
    "num_of_storage_groups",
    "storage_groups",
    "num_of_masking_views",
    "masking_views",
    "num_of_snapshots",
    "snapshots",
    "num_of_clones",
    "clones",
    "num_of_rdf_infos",
    "rdf_infos",
    "cap_tb",
    "cap_gb",
    "cap_mb",
    "cap_cyl",
    "unreducible_data_gb",
    "data_reduction_ratio_to_one",
    "data_reduction_enabled",
    "effective_used_capacity_gb",
    "srp",
];

/// Top-level storage-group attributes (STORAGEGROUP_META_DATA).
pub const SG_ATTRS: &[&str] = &[
    "id",
    "resource_type",
    "type",
    "uuid",
    "system",
    "volume_emulation",
    "srp",
    "num_of_volumes",
    "volumes",
    "num_of_non_gk_volumes",
    "non_gk_volumes",
    "num_of_child_storage_groups",
    "child_storage_groups",
    "num_of_parent_storage_groups",
    "parent_storage_groups",
    "num_of_masking_views",
    "masking_views",
    "num_of_snapshots",
    "snapshots",
    "num_of_snapshot_policies",
    "snapshot_policies",
    "num_of_clones",
    "clones",
    "num_of_rdf_infos",
    "rdf_infos",
    "host_io_limit_info",
    "service_level",
    "tags",
    "num_of_tags",
    "last_modified_time_ms",
    "group_last_modified_time_ms",
    "timestamp_ms",
    "effective_used_capacity_gb",
    "data_reduction_enabled",
    "data_reduction_ratio_to_one",
    "unreducible_data_gb",
    "cap_gb",
];

fn r(id: &str, kind: &str) -> Value {
    json!({"id": id, "resource_type": kind})
}

fn views_of_volume(a: &Array, dev: &str) -> Vec<Value> {
    let groups = a.groups_of_volume(dev);
    let names: BTreeSet<String> = groups.iter().flat_map(|g| a.views_of_sg(g)).collect();
    names
        .iter()
        .filter_map(|n| a.masking_views.get(n))
        .map(|mv| {
            json!({
                "id": mv.id, "resource_type": "MaskingView",
                "host": r(&mv.host, "Host"), "port_group": r(&mv.port_group, "PortGroup"),
                "storage_group": r(&mv.storage_group, "StorageGroup"),
            })
        })
        .collect()
}

/// Every attribute of a volume, in the enhanced API's shape.
pub fn volume(a: &Array, v: &Volume) -> Value {
    let groups = a.groups_of_volume(&v.volume_id);
    let views = views_of_volume(a, &v.volume_id);
    let snaps: Vec<Value> = a
        .snapshots_of(&v.volume_id)
        .map(|s| {
            json!({
                "resource_type": "Snapshot", "id": s.snap_id.map(|i| i.to_string()).unwrap_or_else(|| format!("{}:{}", s.name, a.generation(s))),
                "name": s.name, "timestamp_ms": s.created_ms, "generation": a.generation(s),
                "type": "Manual", "linked": !s.links.is_empty(), "restored": false, "expired": false,
                "secured": false, "failed": false, "persistent": false, "cap_gb": v.cap_gb(),
            })
        })
        .collect();
    let compression = groups
        .iter()
        .filter_map(|g| a.storage_groups.get(g))
        .find(|g| g.slo.is_some())
        .is_some_and(|g| g.compression);
    json!({
        "id": v.volume_id,
        "resource_type": "Volume",
        "type": "TDEV",
        "system": r(&a.symmetrix_id, "System"),
        "emulation": "FBA",
        "status": "Ready",
        "identifier": v.identifier.clone().unwrap_or_default(),
        "ssid": "FFFFFFFF",
        "nguid": "",
        "wwn": v.wwn,
        "effective_wwn": v.wwn,
        "has_effective_wwn": false,
        "mobility_id_enabled": false,
        "encapsulated": false,
        "snapvx_source": a.is_snapvx_source(&v.volume_id),
        "snapvx_target": a.is_snapvx_target(&v.volume_id),
        "num_of_storage_groups": groups.len(),
        "storage_groups": groups.iter().map(|g| r(g, "StorageGroup")).collect::<Vec<_>>(),
        "num_of_masking_views": views.len(),
        "masking_views": views,
        "num_of_snapshots": snaps.len(),
        "snapshots": snaps,
        "num_of_clones": 0,
        "clones": [],
        "num_of_rdf_infos": 0,
        "rdf_infos": [],
        "cap_tb": v.cap_gb() / 1024.0,
        "cap_gb": v.cap_gb(),
        "cap_mb": v.cap_mb as f64,
        "cap_cyl": (v.cap_mb * 8).div_ceil(15) as f64,
        "unreducible_data_gb": 0.0,
        "data_reduction_ratio_to_one": 1.0,
        "data_reduction_enabled": compression,
        "effective_used_capacity_gb": v.cap_gb() * v.allocated_percent as f64 / 100.0,
        "srp": r(&v.srp, "Srp"),
    })
}

/// Every attribute of a storage group, in the enhanced API's shape.
pub fn storage_group(a: &Array, id: &str) -> Option<Value> {
    let g = a.storage_groups.get(id)?;
    let vols = a.volumes_in_sg_deep(id);
    let cap: f64 = vols
        .iter()
        .filter_map(|d| a.volumes.get(d))
        .map(|v| v.cap_gb())
        .sum();
    let views: Vec<Value> = a
        .views_of_sg(id)
        .iter()
        .filter_map(|n| a.masking_views.get(n))
        .map(|mv| {
            json!({
                "id": mv.id, "resource_type": "MaskingView",
                "host": r(&mv.host, "Host"), "port_group": r(&mv.port_group, "PortGroup"),
                "storage_group": r(&mv.storage_group, "StorageGroup"),
            })
        })
        .collect();
    let kind = if !g.children.is_empty() {
        "Parent"
    } else if !g.parents.is_empty() {
        "Child"
    } else {
        "Standalone"
    };
    let vol_list: Vec<Value> = vols
        .iter()
        .filter_map(|d| a.volumes.get(d))
        .map(|v| json!({"resource_type": "Volume", "id": v.volume_id, "wwn": v.wwn, "effective_wwn": v.wwn}))
        .collect();
    let mut out = json!({
        "id": g.id,
        "resource_type": "StorageGroup",
        "type": kind,
        "uuid": format!("{:032x}", g.id.bytes().fold(0u128, |h, b| h.wrapping_mul(131).wrapping_add(b as u128))),
        "system": r(&a.symmetrix_id, "System"),
        "volume_emulation": "FBA",
        "num_of_volumes": vol_list.len(),
        "volumes": vol_list.clone(),
        "num_of_non_gk_volumes": vol_list.len(),
        "non_gk_volumes": vol_list,
        "num_of_child_storage_groups": g.children.len(),
        "child_storage_groups": g.children.iter().map(|c| r(c, "StorageGroup")).collect::<Vec<_>>(),
        "num_of_parent_storage_groups": g.parents.len(),
        "parent_storage_groups": g.parents.iter().map(|c| r(c, "StorageGroup")).collect::<Vec<_>>(),
        "num_of_masking_views": views.len(),
        "masking_views": views,
        "num_of_snapshots": 0,
        "snapshots": [],
        "num_of_snapshot_policies": 0,
        "snapshot_policies": [],
        "num_of_clones": 0,
        "clones": [],
        "num_of_rdf_infos": 0,
        "rdf_infos": [],
        "tags": [],
        "num_of_tags": 0,
        "effective_used_capacity_gb": 0.0,
        "data_reduction_enabled": g.compression,
        "data_reduction_ratio_to_one": 1.0,
        "unreducible_data_gb": 0.0,
        "cap_gb": (cap * 100.0).round() / 100.0,
    });
    if let Some(srp) = &g.srp {
        out["srp"] = r(srp, "Srp");
    }
    if let Some(slo) = &g.slo {
        out["service_level"] = json!({"resource_type": "ServiceLevel", "id": slo, "base_id": slo});
    }
    if let Some(h) = &g.host_io_limit {
        out["host_io_limit_info"] = json!({
            "resource_type": "HostIoInfo",
            "host_io_limit_mb_sec": h.host_io_limit_mb_sec, "host_io_limit_io_sec": h.host_io_limit_io_sec,
            "dynamic_distribution": h.dynamic_distribution,
        });
    }
    Some(out)
}

/// Checks every attribute path of `select` and `filter` against the list.
fn check_attr(path: &str, attrs: &[&str], kind: &str) -> SimResult<()> {
    let top = path.split('.').next().unwrap_or(path);
    if attrs.contains(&top) {
        Ok(())
    } else {
        Err(SimError::bad_request(format!(
            "Invalid {kind} attribute '{path}'; valid attributes: {}",
            attrs.join(", ")
        )))
    }
}

/// The values at a dotted path (lists are flattened).
fn values_at<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for part in path.split('.') {
        let mut next = Vec::new();
        for c in cur {
            match c {
                Value::Array(items) => {
                    for i in items {
                        if let Some(x) = i.get(part) {
                            next.push(x);
                        }
                    }
                }
                other => {
                    if let Some(x) = other.get(part) {
                        next.push(x);
                    }
                }
            }
        }
        cur = next;
    }
    cur.into_iter()
        .flat_map(|x| match x {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        })
        .collect()
}

/// One parsed filter: attribute path, operator, value.
struct Filter {
    path: String,
    op: String,
    value: String,
}

fn parse_filters(raw: Option<&String>, attrs: &[&str], kind: &str) -> SimResult<Vec<Filter>> {
    let Some(raw) = raw else { return Ok(vec![]) };
    let mut out = Vec::new();
    for expr in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut parts = expr.splitn(3, ' ');
        let (Some(path), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SimError::bad_request(format!(
                "Invalid filter '{expr}': use '<attribute> <operator> <value>'"
            )));
        };
        check_attr(path, attrs, kind)?;
        if !["eq", "ne", "gt", "ge", "lt", "le", "like", "ilike"].contains(&op) {
            return Err(SimError::bad_request(format!(
                "Invalid filter operator '{op}' in '{expr}'; valid operators: eq, ne, gt, ge, lt, le, like, ilike"
            )));
        }
        out.push(Filter {
            path: path.into(),
            op: op.into(),
            value: value.into(),
        });
    }
    Ok(out)
}

fn one_matches(v: &Value, f: &Filter) -> bool {
    let like = |s: &str, pat: &str, fold: bool| {
        let pat = pat.trim_matches(|c| c == '%' || c == '*');
        if fold {
            s.to_lowercase().contains(&pat.to_lowercase())
        } else {
            s.contains(pat)
        }
    };
    match v {
        Value::Number(n) => {
            let (Some(x), Ok(y)) = (n.as_f64(), f.value.parse::<f64>()) else {
                return false;
            };
            match f.op.as_str() {
                "eq" => (x - y).abs() < 1e-9,
                "ne" => (x - y).abs() >= 1e-9,
                "gt" => x > y,
                "ge" => x >= y,
                "lt" => x < y,
                "le" => x <= y,
                _ => false,
            }
        }
        Value::Bool(b) => {
            let want = f.value.eq_ignore_ascii_case("true");
            match f.op.as_str() {
                "eq" => *b == want,
                "ne" => *b != want,
                _ => false,
            }
        }
        Value::String(s) => match f.op.as_str() {
            "eq" => *s == f.value,
            "ne" => *s != f.value,
            "like" => like(s, &f.value, false),
            "ilike" => like(s, &f.value, true),
            "gt" => s.as_str() > f.value.as_str(),
            "ge" => s.as_str() >= f.value.as_str(),
            "lt" => s.as_str() < f.value.as_str(),
            "le" => s.as_str() <= f.value.as_str(),
            _ => false,
        },
        _ => false,
    }
}

/// Projects an object on the selected paths (`id` always).
fn project(full: &Value, select: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), full["id"].clone());
    for path in select {
        let mut parts = path.splitn(2, '.');
        let top = parts.next().unwrap_or_default();
        let Some(v) = full.get(top) else { continue };
        match parts.next() {
            None => {
                out.insert(top.into(), v.clone());
            }
            Some(sub) => {
                let pick = |x: &Value| -> Value {
                    let mut m = Map::new();
                    if let Some(y) = x.get(sub) {
                        m.insert(sub.into(), y.clone());
                    }
                    Value::Object(m)
                };
                let new = match v {
                    Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
                    other => pick(other),
                };
                // merge with what an earlier sub-path selected
                match (out.get_mut(top), new) {
                    (Some(Value::Array(old)), Value::Array(new)) => {
                        for (o, n) in old.iter_mut().zip(new) {
                            if let (Value::Object(o), Value::Object(n)) = (o, n) {
                                o.extend(n);
                            }
                        }
                    }
                    (Some(Value::Object(o)), Value::Object(n)) => o.extend(n),
                    (_, new) => {
                        out.insert(top.into(), new);
                    }
                }
            }
        }
    }
    Value::Object(out)
}

/// Serves one enhanced list: `kind` is `volumes` or `storage-groups`.
pub fn list(
    a: &Array,
    kind: &str,
    select: Option<&String>,
    filter: Option<&String>,
) -> SimResult<Value> {
    let (attrs, key, label) = match kind {
        "volumes" => (VOLUME_ATTRS, "volumes", "volume"),
        _ => (SG_ATTRS, "storage_groups", "storage group"),
    };
    let select: Vec<String> = select
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    for p in &select {
        check_attr(p, attrs, label)?;
    }
    let filters = parse_filters(filter, attrs, label)?;
    let all: Vec<Value> = match kind {
        "volumes" => a.volumes.values().map(|v| volume(a, v)).collect(),
        _ => a
            .storage_groups
            .keys()
            .filter_map(|id| storage_group(a, id))
            .collect(),
    };
    let items: Vec<Value> = all
        .iter()
        .filter(|full| {
            filters.iter().all(|f| {
                let vals = values_at(full, &f.path);
                if f.op == "ne" {
                    vals.iter().all(|v| one_matches(v, f))
                } else {
                    vals.iter().any(|v| one_matches(v, f))
                }
            })
        })
        .map(|full| project(full, &select))
        .collect();
    Ok(json!({ key: items }))
}
