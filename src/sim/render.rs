//! Renders model objects in the JSON shapes Unisphere answers with, per API
//! version (`84` is the seed's 8.4; `90` and later share the newer shapes).

use super::model::{Array, Job, Volume, link_percent};
use serde_json::{Map, Value, json};

/// True for the 8.4 shapes.
pub fn is_v84(ver: u32) -> bool {
    ver < 90
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn volume(a: &Array, v: &Volume, ver: u32) -> Value {
    let groups = a.groups_of_volume(&v.volume_id);
    let mut paths = 0;
    for mv in a.masking_views.values() {
        if a.volumes_in_sg_deep(&mv.storage_group)
            .contains(&v.volume_id)
        {
            paths += a
                .port_groups
                .get(&mv.port_group)
                .map(|p| p.ports.len())
                .unwrap_or(0);
        }
    }
    let src = a.is_snapvx_source(&v.volume_id);
    let tgt = a.is_snapvx_target(&v.volume_id);
    let mut m = Map::new();
    m.insert("volumeId".into(), json!(v.volume_id));
    m.insert("type".into(), json!("TDEV"));
    m.insert("emulation".into(), json!("FBA"));
    m.insert("ssid".into(), json!("FFFFFFFF"));
    m.insert("allocated_percent".into(), json!(v.allocated_percent));
    m.insert("cap_gb".into(), json!(round2(v.cap_gb())));
    m.insert("cap_mb".into(), json!(v.cap_mb as f64));
    m.insert("cap_cyl".into(), json!((v.cap_mb * 8).div_ceil(15)));
    m.insert("status".into(), json!("Ready"));
    m.insert("reserved".into(), json!(false));
    m.insert("pinned".into(), json!(false));
    m.insert("wwn".into(), json!(v.wwn));
    if !is_v84(ver) {
        m.insert("effective_wwn".into(), json!(v.wwn));
        m.insert("has_effective_wwn".into(), json!(false));
    }
    m.insert("encapsulated".into(), json!(false));
    m.insert("num_of_storage_groups".into(), json!(groups.len()));
    m.insert("num_of_front_end_paths".into(), json!(paths));
    if !groups.is_empty() {
        m.insert("storageGroupId".into(), json!(groups));
    }
    if let Some(i) = &v.identifier {
        m.insert("volume_identifier".into(), json!(i));
    }
    m.insert("snapvx_source".into(), json!(src));
    m.insert("snapvx_target".into(), json!(tgt));
    if let Some(l) = &v.rdf {
        let label = a
            .rdf_groups
            .get(&l.group.to_string())
            .map(|g| g.label.clone())
            .unwrap_or_default();
        m.insert(
            "rdfGroupId".into(),
            json!([{"rdf_group_number": l.group, "label": label}]),
        );
    }
    Value::Object(m)
}

pub fn storage_group(a: &Array, id: &str, ver: u32) -> Option<Value> {
    let g = a.storage_groups.get(id)?;
    let vols = a.volumes_in_sg_deep(id);
    let cap: f64 = vols
        .iter()
        .filter_map(|d| a.volumes.get(d))
        .map(|v| v.cap_gb())
        .fold(0.0, |a, b| a + b);
    let views = a.views_of_sg(id);
    let kind = if !g.children.is_empty() {
        "Parent"
    } else if !g.parents.is_empty() {
        "Child"
    } else {
        "Standalone"
    };
    let mut m = Map::new();
    m.insert("storageGroupId".into(), json!(g.id));
    if let Some(s) = &g.slo {
        m.insert("slo".into(), json!(s));
        if !is_v84(ver) {
            m.insert("service_level".into(), json!(s));
            m.insert("base_slo_name".into(), json!(s));
        }
    }
    if let Some(w) = &g.workload {
        m.insert("workload".into(), json!(w));
    }
    if let Some(s) = &g.srp {
        m.insert("srp".into(), json!(s));
    }
    m.insert("slo_compliance".into(), json!("NONE"));
    m.insert("num_of_vols".into(), json!(vols.len()));
    m.insert("num_of_child_sgs".into(), json!(g.children.len()));
    m.insert("num_of_parent_sgs".into(), json!(g.parents.len()));
    m.insert("num_of_masking_views".into(), json!(views.len()));
    m.insert("num_of_snapshots".into(), json!(0));
    m.insert("cap_gb".into(), json!(round2(cap)));
    m.insert("device_emulation".into(), json!("FBA"));
    m.insert("type".into(), json!(kind));
    m.insert("unprotected".into(), json!(true));
    if !g.children.is_empty() {
        m.insert("child_storage_group".into(), json!(g.children));
    }
    if !g.parents.is_empty() {
        m.insert("parent_storage_group".into(), json!(g.parents));
    }
    if !views.is_empty() {
        m.insert("maskingview".into(), json!(views));
    }
    if let Some(l) = &g.host_io_limit {
        let mut h = Map::new();
        if let Some(x) = &l.host_io_limit_mb_sec {
            h.insert("host_io_limit_mb_sec".into(), json!(x));
        }
        if let Some(x) = &l.host_io_limit_io_sec {
            h.insert("host_io_limit_io_sec".into(), json!(x));
        }
        h.insert("dynamicDistribution".into(), json!(l.dynamic_distribution));
        m.insert("hostIOLimit".into(), Value::Object(h));
    }
    m.insert("compression".into(), json!(g.compression));
    Some(Value::Object(m))
}

pub fn srp(a: &Array, id: &str, ver: u32) -> Option<Value> {
    let s = a.srps.get(id)?;
    let (allocated, subscribed) = a.srp_usage(id);
    let mut m = Map::new();
    m.insert("srpId".into(), json!(s.srp_id));
    m.insert("emulation".into(), json!("FBA"));
    m.insert("reserved_cap_percent".into(), json!(s.reserved_cap_percent));
    if is_v84(ver) {
        m.insert(
            "total_usable_cap_gb".into(),
            json!(round2(s.total_usable_cap_gb)),
        );
        m.insert("total_allocated_cap_gb".into(), json!(round2(allocated)));
        m.insert("total_subscribed_cap_gb".into(), json!(round2(subscribed)));
        m.insert("srpSloDemandId".into(), json!(a.slos));
    } else {
        let tb = |gb: f64| (gb / 1024.0 * 1000.0).round() / 1000.0;
        m.insert(
            "srp_capacity".into(),
            json!({
                "usable_total_tb": tb(s.total_usable_cap_gb),
                "usable_used_tb": tb(allocated),
                "subscribed_total_tb": tb(subscribed),
                "subscribed_allocated_tb": tb(allocated),
                "snapshot_modified_tb": 0.0,
                "snapshot_total_tb": 0.0,
                "effective_used_capacity_percent":
                    if s.total_usable_cap_gb > 0.0 { (allocated / s.total_usable_cap_gb * 100.0).round() } else { 0.0 },
            }),
        );
    }
    Some(Value::Object(m))
}

pub fn host(a: &Array, id: &str) -> Option<Value> {
    let h = a.hosts.get(id)?;
    let views: Vec<&str> = a
        .masking_views
        .values()
        .filter(|v| v.host == id)
        .map(|v| v.id.as_str())
        .collect();
    let mut m = Map::new();
    m.insert("hostId".into(), json!(h.id));
    m.insert("num_of_initiators".into(), json!(h.initiators.len()));
    m.insert("num_of_host_groups".into(), json!(0));
    m.insert("num_of_masking_views".into(), json!(views.len()));
    m.insert("num_of_powerpath_hosts".into(), json!(0));
    m.insert("type".into(), json!("iSCSI"));
    m.insert("enabled_flags".into(), json!(""));
    m.insert("disabled_flags".into(), json!(""));
    m.insert("consistent_lun".into(), json!(false));
    m.insert("port_flags_override".into(), json!(false));
    if !h.initiators.is_empty() {
        m.insert("initiator".into(), json!(h.initiators));
    }
    if !views.is_empty() {
        m.insert("maskingview".into(), json!(views));
    }
    Some(Value::Object(m))
}

pub fn port_group(a: &Array, id: &str, ver: u32) -> Option<Value> {
    let pg = a.port_groups.get(id)?;
    let keys: Vec<Value> = pg
        .ports
        .iter()
        .map(|k| {
            let port = if is_v84(ver) { k.key() } else { k.port.clone() };
            json!({"directorId": k.director, "portId": port})
        })
        .collect();
    let views: Vec<&str> = a
        .masking_views
        .values()
        .filter(|v| v.port_group == id)
        .map(|v| v.id.as_str())
        .collect();
    let mut m = Map::new();
    m.insert("portGroupId".into(), json!(pg.id));
    m.insert("num_of_ports".into(), json!(pg.ports.len()));
    m.insert("symmetrixPortKey".into(), Value::Array(keys));
    m.insert("num_of_masking_views".into(), json!(views.len()));
    m.insert("type".into(), json!("iSCSI"));
    if !views.is_empty() {
        m.insert("maskingview".into(), json!(views));
    }
    Some(Value::Object(m))
}

pub fn director_port(a: &Array, dir: &str, port: &str, system_path: bool) -> Option<Value> {
    // accept "0" and the combined "SE-1E:0"
    let port = port.rsplit(':').next().unwrap_or(port);
    let key = format!("{dir}:{port}");
    let p = a.ports.get(&key)?;
    let views: Vec<&str> = a
        .masking_views
        .values()
        .filter(|v| {
            a.port_groups
                .get(&v.port_group)
                .is_some_and(|pg| pg.ports.contains(&p.key))
        })
        .map(|v| v.id.as_str())
        .collect();
    let groups: Vec<&str> = a
        .port_groups
        .values()
        .filter(|pg| pg.ports.contains(&p.key))
        .map(|pg| pg.id.as_str())
        .collect();
    let mut m = Map::new();
    m.insert(
        "symmetrixPortKey".into(),
        json!({"directorId": p.key.director, "portId": p.key.port}),
    );
    m.insert("identifier".into(), json!(p.iqn));
    m.insert("ip_addresses".into(), json!(p.ip_addresses));
    m.insert("iscsi_target".into(), json!(true));
    m.insert("type".into(), json!("GigE"));
    m.insert("num_of_masking_views".into(), json!(views.len()));
    m.insert("num_of_port_groups".into(), json!(groups.len()));
    if !views.is_empty() {
        m.insert("maskingview".into(), json!(views));
    }
    if !groups.is_empty() {
        m.insert("portgroup".into(), json!(groups));
    }
    if system_path {
        m.insert("director_status".into(), json!("Online"));
        m.insert("port_status".into(), json!("ON"));
    }
    Some(json!({ "symmetrixPort": Value::Object(m) }))
}

pub fn masking_view(a: &Array, id: &str) -> Option<Value> {
    let v = a.masking_views.get(id)?;
    Some(json!({
        "maskingViewId": v.id,
        "hostId": v.host,
        "portGroupId": v.port_group,
        "storageGroupId": v.storage_group,
    }))
}

pub fn connections(a: &Array, id: &str, volume_filter: Option<&str>) -> Option<Value> {
    let v = a.masking_views.get(id)?;
    let host = a.hosts.get(&v.host)?;
    let pg = a.port_groups.get(&v.port_group)?;
    let mut out = Vec::new();
    for dev in a.volumes_in_sg_deep(&v.storage_group) {
        if volume_filter.is_some_and(|f| f != dev) {
            continue;
        }
        let Some(vol) = a.volumes.get(&dev) else {
            continue;
        };
        let lun = host.luns.get(&dev).copied().unwrap_or(0);
        for port in &pg.ports {
            for ini in &host.initiators {
                out.push(json!({
                    "volumeId": dev,
                    "host_lun_address": format!("{lun:04X}"),
                    "cap_gb": round2(vol.cap_gb()),
                    "initiatorId": ini,
                    "alias": format!("{}/{}", v.host, ini),
                    "dir_port": port.key(),
                    "logged_in": false,
                    "on_fabric": false,
                }));
            }
        }
    }
    Some(json!({ "maskingViewConnection": out }))
}

pub fn initiator(a: &Array, id: &str) -> Option<Value> {
    // accept the bare IQN and the array's "<dir>:<port>:<iqn>" form
    let bare = bare_initiator(a, id);
    let h = a.host_of_initiator(bare)?;
    let views: Vec<&str> = a
        .masking_views
        .values()
        .filter(|v| v.host == h.id)
        .map(|v| v.id.as_str())
        .collect();
    let mut m = Map::new();
    m.insert("initiatorId".into(), json!(bare));
    m.insert("host".into(), json!(h.id));
    m.insert("type".into(), json!("GigE"));
    m.insert("num_of_masking_views".into(), json!(views.len()));
    if !views.is_empty() {
        m.insert("maskingview".into(), json!(views));
    }
    Some(Value::Object(m))
}

/// Strips a `SE-1E:0:` prefix from a full initiator id.
pub fn bare_initiator<'a>(a: &Array, id: &'a str) -> &'a str {
    for k in a.ports.keys() {
        if let Some(rest) = id
            .strip_prefix(k.as_str())
            .and_then(|r| r.strip_prefix(':'))
        {
            return rest;
        }
    }
    id
}

pub fn job(j: &Job, symmetrix: Option<&str>, now_ms: u64) -> Value {
    let status = j.status(now_ms);
    let done = status == "SUCCEEDED" || status == "FAILED";
    let mut m = Map::new();
    m.insert("jobId".into(), json!(j.job_id));
    if let Some(s) = symmetrix {
        m.insert("symmetrixId".into(), json!(s));
    }
    m.insert("name".into(), json!(j.name));
    m.insert("status".into(), json!(status));
    m.insert("username".into(), json!(j.username));
    m.insert("resourceLink".into(), json!(j.resource_link));
    m.insert("scheduled_date_milliseconds".into(), json!(j.created_ms));
    m.insert(
        "scheduled_date".into(),
        json!(format_timestamp(j.created_ms)),
    );
    m.insert(
        "last_modified_date_milliseconds".into(),
        json!(j.created_ms.max(now_ms.min(j.created_ms + j.duration_ms))),
    );
    if done {
        m.insert(
            "completed_date_milliseconds".into(),
            json!(j.created_ms + j.duration_ms),
        );
        m.insert("result".into(), json!(j.result));
    }
    m.insert(
        "task".into(),
        json!([{"execution_order": 1, "description": j.task}]),
    );
    Value::Object(m)
}

/// The snapshot view of one volume (`{rp}/volume/{dev}/snapshot`).
pub fn volume_snapshots(a: &Array, dev: &str, now_ms: u64, copy_ms: u64) -> Value {
    let srcs: Vec<Value> = a
        .snapshots_of(dev)
        .map(|s| {
            let links: Vec<Value> = s
                .links
                .iter()
                .map(|l| {
                    let pct = link_percent(l, now_ms, copy_ms);
                    let defined = !l.copy || pct == 100;
                    with_snap_id(
                        json!({
                            "targetDevice": l.target,
                            "percentageCopied": pct,
                            "state": link_state(l.copy, pct),
                            "copy": l.copy,
                            "defined": defined,
                            "linked": true,
                        }),
                        "snap_id",
                        s.snap_id,
                    )
                })
                .collect();
            with_snap_id(
                json!({
                    "snapshotName": s.name,
                    "generation": a.generation(s),
                    "timestamp": format_timestamp(s.created_ms),
                    "timestamp_utc": s.created_ms,
                    "state": "Established",
                    "linkedDevices": links,
                }),
                "snap_id",
                s.snap_id,
            )
        })
        .collect();
    let lnks: Vec<Value> = a
        .links_to_target(dev)
        .into_iter()
        .flat_map(|s| {
            s.links.iter().filter(|l| l.target == dev).map(move |l| {
                let pct = link_percent(l, now_ms, copy_ms);
                with_snap_id(
                    json!({
                        "snapshotName": s.name,
                        "linkSourceName": s.source,
                        "generation": a.generation(s),
                        "percentageCopied": pct,
                        "state": link_state(l.copy, pct),
                        "copy": l.copy,
                        "defined": !l.copy || pct == 100,
                    }),
                    "snap_id",
                    s.snap_id,
                )
            })
        })
        .collect();
    json!({"snapshotSrcs": srcs, "snapshotLnks": lnks})
}

/// One generation of a storage-group snapshot, in the spec's shape.
pub fn sg_snapshot(
    a: &Array,
    sg: &str,
    name: &str,
    sel: super::model::SnapSel,
    _now_ms: u64,
) -> Option<Value> {
    let idx = a.sg_snapshot(sg, name, sel).ok()?;
    let first = &a.snapshots[*idx.first()?];
    let sources: Vec<Value> = idx
        .iter()
        .filter_map(|i| a.volumes.get(&a.snapshots[*i].source))
        .map(|v| json!({"name": v.volume_id, "capacity": (v.cap_mb * 8).div_ceil(15), "capacity_gb": v.cap_gb()}))
        .collect();
    let linked = idx.iter().any(|i| !a.snapshots[*i].links.is_empty());
    let mut out = json!({
        "name": first.name,
        "generation": a.generation(first),
        "timestamp": format_timestamp(first.created_ms),
        "timestamp_utc": first.created_ms,
        "state": ["Established"],
        "numSourceVolumes": sources.len(),
        "sourceVolume": sources,
        "numStorageGroupVolumes": a.sg_snapshot_members(sg).map(|m| m.len()).unwrap_or(0),
        "numUniqueTracks": 0, "numSharedTracks": 0, "tracks": 0, "nonSharedTracks": 0,
        "timeToLiveExpiryDate": "N/A",
        "isExpired": false,
        "isLinked": linked,
        "isRestored": false,
    });
    if let Some(id) = first.snap_id {
        out["snapid"] = json!(id);
    }
    Some(out)
}

/// Adds a snap id under `key` where the array has them.
fn with_snap_id(mut v: Value, key: &str, id: Option<u64>) -> Value {
    if let (Some(id), Value::Object(m)) = (id, &mut v) {
        m.insert(key.into(), json!(id));
    }
    v
}

fn link_state(copy: bool, pct: u32) -> &'static str {
    match (copy, pct) {
        (false, _) => "Linked",
        (true, 100) => "Copied",
        (true, _) => "CopyInProg",
    }
}

pub fn format_timestamp(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%a %b %d %H:%M:%S %Y").to_string())
        .unwrap_or_default()
}

/// The private volume detail (`GET /private/{ver}/.../volume?wwn=`), with
/// the header fields real arrays send (current Cinder drivers read several).
/// A volume's private detail; link states as the copy stands at `now_ms`
/// (`state` on both sides of a link, as real arrays send it).
pub fn private_volume(a: &Array, v: &Volume, now_ms: u64, copy_ms: u64) -> Value {
    let src = a.is_snapvx_source(&v.volume_id);
    let tgt = a.is_snapvx_target(&v.volume_id);
    let mut sessions = Vec::new();
    let gens: Vec<Value> = a
        .snapshots_of(&v.volume_id)
        .map(|s| {
            json!({
                "snapshotHeader": with_snap_id(json!({
                    "snapshotName": s.name,
                    "device": s.source,
                    "generation": a.generation(s),
                    "timestamp": format_timestamp(s.created_ms),
                }), "snapid", s.snap_id),
                "lnkSnapshotGenInfo": s.links.iter().map(|l| json!({"targetDevice": l.target, "state": link_state(l.copy, link_percent(l, now_ms, copy_ms))})).collect::<Vec<_>>(),
            })
        })
        .collect();
    if !gens.is_empty() {
        sessions.push(json!({"srcSnapshotGenInfo": gens}));
    }
    for s in a.links_to_target(&v.volume_id) {
        let state = s
            .links
            .iter()
            .find(|l| l.target == v.volume_id)
            .map_or("Linked", |l| {
                link_state(l.copy, link_percent(l, now_ms, copy_ms))
            });
        sessions.push(json!({"tgtSrcSnapshotGenInfo": with_snap_id(json!({
            "snapshotName": s.name,
            "targetDevice": v.volume_id,
            "sourceDevice": s.source,
            "generation": a.generation(s),
            "state": state,
        }), "snapid", s.snap_id)}));
    }
    let mut ti = Map::new();
    ti.insert("snapVXSrc".into(), json!(src));
    ti.insert("snapVXTgt".into(), json!(tgt));
    if !sessions.is_empty() {
        ti.insert("snapVXSession".into(), Value::Array(sessions));
    }
    let groups = a.groups_of_volume(&v.volume_id);
    let views: std::collections::BTreeSet<String> =
        groups.iter().flat_map(|g| a.views_of_sg(g)).collect();
    // the service level and workload of the group that gives them
    let slo_group = groups
        .iter()
        .filter_map(|g| a.storage_groups.get(g))
        .find(|g| g.slo.is_some());
    let compression = slo_group.is_some_and(|g| g.compression);
    json!({
        "volumeHeader": {
            "volumeId": v.volume_id,
            "userDefinedIdentifier": v.identifier.clone().unwrap_or_default(),
            "wwn": v.wwn,
            "capGB": round2(v.cap_gb()),
            "capMB": v.cap_mb as f64,
            "status": "Ready",
            "storageGroup": groups,
            "emulationType": "FBA",
            "configuration": "TDEV",
            "private": false,
            "serviceState": "Normal",
            "mapped": !views.is_empty(),
            "numStorageGroups": groups.len(),
            "numSymDevMaskingViews": views.len(),
            "reservationInfo": {"reserved": false},
            "encapsulated": false,
            "formattedName": v.volume_id,
            "system_resource": false,
            "nameModifier": "",
            "serviceLevel": slo_group.and_then(|g| g.slo.clone()).unwrap_or_else(|| "None".into()),
            "workload": slo_group.and_then(|g| g.workload.clone()).unwrap_or_else(|| "None".into()),
            "compressionEnabled": compression,
        },
        "maskingInfo": {"masked": !views.is_empty()},
        "rdfInfo": {
            "dynamicRDF": true,
            "RDF": v.rdf.is_some(),
            "concurrentRDF": false,
            "getDynamicRDFCapability": "RDF1_OR_RDF2_Capable",
            "RDFA": false,
        },
        "timeFinderInfo": Value::Object(ti),
    })
}
