//! SRDF in the simulator: RDF groups between two arrays of one Unisphere,
//! device pairs and their states, and the rules real arrays enforce.
//!
//! A pair is kept on both volumes (each side's [`RdfLink`] names the
//! other), and changed on both at once by the world-level functions here.
//! `SyncInProg` turns into `Synchronized` once `copy_ms` has passed since
//! the (re)synchronization started, the way copies of SnapVX links do.

use super::model::{Array, SimError, SimResult, World};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An RDF group on one array, pointing at its peer on another.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RdfGroup {
    pub number: u32,
    pub label: String,
    pub remote_array: String,
    pub remote_number: u32,
    /// An offline group (links down) refuses new pairs and actions.
    #[serde(default)]
    pub offline: bool,
}

/// One side of a device pair, kept on its volume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RdfLink {
    pub group: u32,
    pub remote_array: String,
    pub remote_group: u32,
    pub remote_device: String,
    /// This side is the R1 (the source the pair was made from).
    pub r1: bool,
    pub mode: String,
    /// `SyncInProg`, `Synchronized`, `Suspended`, `Split` or `Failed Over`
    /// (`SyncInProg` is shown as `Synchronized` once the copy is done).
    pub state: String,
    /// When the last (re)synchronization started.
    pub since_ms: u64,
}

impl RdfLink {
    /// The state as the array shows it now.
    pub fn state_at(&self, now_ms: u64, copy_ms: u64) -> &str {
        if self.state == "SyncInProg" && now_ms.saturating_sub(self.since_ms) >= copy_ms {
            "Synchronized"
        } else {
            &self.state
        }
    }

    fn synchronizing(&self) -> bool {
        self.state == "SyncInProg" || self.state == "Synchronized"
    }

    /// This side's device state: the R1 serves I/O unless failed over;
    /// the R2 serves I/O only when failed over or split.
    pub fn volume_state(&self) -> &'static str {
        let failed_over = self.state == "Failed Over";
        let split = self.state == "Split";
        match (self.r1, failed_over || split) {
            (true, _) if !failed_over => "Ready",
            (true, _) => "Write Disabled",
            (false, true) => "Ready",
            (false, false) => "Write Disabled",
        }
    }

    fn peer_state(&self) -> &'static str {
        let peer = RdfLink {
            r1: !self.r1,
            ..self.clone()
        };
        peer.volume_state()
    }
}

fn bad(msg: impl Into<String>) -> SimError {
    SimError::bad_request(msg)
}

pub fn group(a: &Array, n: u32) -> SimResult<&RdfGroup> {
    a.rdf_groups
        .get(&n.to_string())
        .ok_or_else(|| SimError::not_found(format!("Cannot find RDF group {n}")))
}

/// Pairs `local` (R1 on `array`) with `remote` on the group's remote array.
#[allow(clippy::too_many_arguments)]
pub fn create_pair(
    w: &mut World,
    array: &str,
    n: u32,
    local: &str,
    remote: &str,
    mode: &str,
    establish: bool,
    now_ms: u64,
) -> SimResult<()> {
    let a = w.array(array)?;
    let g = group(a, n)?.clone();
    if g.offline {
        return Err(bad(format!(
            "RDF group {n} is offline: its links are down; no pair can be made"
        )));
    }
    if !["Synchronous", "Asynchronous", "AdaptiveCopyDisk"].contains(&mode) {
        return Err(bad(format!(
            "replicationMode must be Synchronous, Asynchronous or AdaptiveCopyDisk, not {mode:?}"
        )));
    }
    let lv = a.volume(local)?.clone();
    let b = w.array(&g.remote_array)?;
    let rv = b.volume(remote).map_err(|_| {
        bad(format!(
            "Cannot find device {remote} on the remote array {} of RDF group {n}",
            g.remote_array
        ))
    })?;
    for (dev, arr, v) in [(local, array, &lv), (remote, g.remote_array.as_str(), rv)] {
        if let Some(l) = &v.rdf {
            return Err(bad(format!(
                "Device {dev} on array {arr} is already an RDF device (paired with {} in RDF group {})",
                l.remote_device, l.group
            )));
        }
    }
    if rv.cap_mb < lv.cap_mb {
        return Err(bad(format!(
            "The target device {remote} ({} GB) is smaller than the source device {local} ({} GB); an R2 must be at least as large as its R1",
            rv.cap_gb(),
            lv.cap_gb()
        )));
    }
    let state = if establish { "SyncInProg" } else { "Suspended" };
    let link = |r1: bool, group, remote_array: &str, remote_group, remote_device: &str| RdfLink {
        group,
        remote_array: remote_array.to_string(),
        remote_group,
        remote_device: remote_device.to_string(),
        r1,
        mode: mode.to_string(),
        state: state.to_string(),
        since_ms: now_ms,
    };
    let l1 = link(true, n, &g.remote_array, g.remote_number, remote);
    let l2 = link(false, g.remote_number, array, n, local);
    w.array_mut(array)?.volume_mut(local)?.rdf = Some(l1);
    w.array_mut(&g.remote_array)?.volume_mut(remote)?.rdf = Some(l2);
    Ok(())
}

/// The pair of `dev` on `array` in group `n`: both sides' coordinates.
fn pair_of(w: &World, array: &str, n: u32, dev: &str) -> SimResult<RdfLink> {
    let v = w.array(array)?.volume(dev)?;
    match &v.rdf {
        Some(l) if l.group == n => Ok(l.clone()),
        _ => Err(SimError::not_found(format!(
            "Device {dev} is not in RDF group {n}"
        ))),
    }
}

/// Applies an action (Failover, Failback, Split, Suspend, Resume,
/// Establish) to the pair of `dev`, on both sides.
pub fn pair_action(
    w: &mut World,
    array: &str,
    n: u32,
    dev: &str,
    action: &str,
    now_ms: u64,
    copy_ms: u64,
) -> SimResult<String> {
    let l = pair_of(w, array, n, dev)?;
    let g = group(w.array(array)?, n)?;
    if g.offline {
        return Err(bad(format!("RDF group {n} is offline: its links are down")));
    }
    let state = l.state_at(now_ms, copy_ms).to_string();
    let refuse = |what: &str| {
        Err(bad(format!(
            "Cannot {what} device {dev} in RDF group {n}: the pair is {state}"
        )))
    };
    let (r1_array, r1_dev, r2_array, r2_dev) = if l.r1 {
        (
            array.to_string(),
            dev.to_string(),
            l.remote_array.clone(),
            l.remote_device.clone(),
        )
    } else {
        (
            l.remote_array.clone(),
            l.remote_device.clone(),
            array.to_string(),
            dev.to_string(),
        )
    };
    let new = match action {
        "Failover" => match state.as_str() {
            "Synchronized" | "Suspended" | "Split" => "Failed Over",
            _ => return refuse("fail over"),
        },
        "Failback" => match state.as_str() {
            "Failed Over" => "SyncInProg",
            _ => return refuse("fail back"),
        },
        "Split" => match state.as_str() {
            "Synchronized" | "SyncInProg" => "Split",
            _ => return refuse("split"),
        },
        "Suspend" => match state.as_str() {
            "Synchronized" | "SyncInProg" => "Suspended",
            _ => return refuse("suspend"),
        },
        "Resume" | "Establish" => {
            let ok = match action {
                "Resume" => state == "Suspended",
                _ => state == "Split" || state == "Suspended",
            };
            if !ok {
                return refuse(&action.to_lowercase());
            }
            let r1 = w.array(&r1_array)?.volume(&r1_dev)?.cap_mb;
            let r2v = w.array(&r2_array)?.volume(&r2_dev)?;
            if r2v.cap_mb < r1 {
                return Err(bad(format!(
                    "Cannot {} device {dev}: the R2 device {r2_dev} ({} GB) is smaller than the R1 device {r1_dev} ({} GB)",
                    action.to_lowercase(),
                    r2v.cap_gb(),
                    r1 as f64 / 1024.0
                )));
            }
            "SyncInProg"
        }
        other => {
            return Err(bad(format!(
                "action must be one of Failover, Failback, Split, Suspend, Resume, Establish, not {other:?}"
            )));
        }
    };
    for (arr, d) in [(&r1_array, &r1_dev), (&r2_array, &r2_dev)] {
        let v = w.array_mut(arr)?.volume_mut(d)?;
        if let Some(x) = v.rdf.as_mut() {
            x.state = new.to_string();
            x.since_ms = now_ms;
        }
    }
    Ok(format!(
        "{action} RDF pair {r1_dev} -> {r2_dev} in RDF group {n}"
    ))
}

/// Deletes the pair of `dev` (both halves): only when it is not copying.
pub fn delete_pair(
    w: &mut World,
    array: &str,
    n: u32,
    dev: &str,
    now_ms: u64,
    copy_ms: u64,
) -> SimResult<()> {
    let l = pair_of(w, array, n, dev)?;
    let state = l.state_at(now_ms, copy_ms);
    if l.synchronizing() || state == "Failed Over" {
        return Err(bad(format!(
            "Cannot delete the RDF pair of device {dev} in RDF group {n}: the pair is {state}; split or suspend it first"
        )));
    }
    w.array_mut(array)?.volume_mut(dev)?.rdf = None;
    if let Ok(a) = w.array_mut(&l.remote_array)
        && let Ok(v) = a.volume_mut(&l.remote_device)
    {
        v.rdf = None;
    }
    Ok(())
}

// ---- renderings ---------------------------------------------------------------

pub fn group_list(a: &Array) -> Value {
    let gs: Vec<Value> = a
        .rdf_groups
        .values()
        .map(|g| {
            json!({"rdfgNumber": g.number, "label": g.label, "remote_symmetrix_id": g.remote_array, "group_type": "Dynamic"})
        })
        .collect();
    json!({"rdfg_count": gs.len(), "rdfGroupID": gs})
}

pub fn group_detail(a: &Array, g: &RdfGroup) -> Value {
    let devs: Vec<&super::model::Volume> = a
        .volumes
        .values()
        .filter(|v| v.rdf.as_ref().is_some_and(|l| l.group == g.number))
        .collect();
    let cap: f64 = devs.iter().map(|v| v.cap_gb()).sum();
    let ports = if g.offline {
        json!([])
    } else {
        json!(["RF-1E:7"])
    };
    json!({
        "rdfgNumber": g.number, "label": g.label, "remoteRdfgNumber": g.remote_number,
        "remoteSymmetrix": g.remote_array, "numDevices": devs.len(),
        "totalDeviceCapacity": (cap * 100.0).round() / 100.0,
        "localPorts": ["RF-1E:7"], "remotePorts": ["RF-1F:7"],
        "localOnlinePorts": ports, "remoteOnlinePorts": ports,
        "modes": if devs.is_empty() { json!([]) } else { json!(["Synchronous"]) },
        "type": "Dynamic", "metro": false, "async": false, "witness": false,
        "offline": g.offline,
    })
}

pub fn group_volumes(a: &Array, n: u32) -> Value {
    let names: Vec<&str> = a
        .volumes
        .values()
        .filter(|v| v.rdf.as_ref().is_some_and(|l| l.group == n))
        .map(|v| v.volume_id.as_str())
        .collect();
    json!({"name": names})
}

pub fn pair(
    w: &World,
    array: &str,
    n: u32,
    dev: &str,
    now_ms: u64,
    copy_ms: u64,
) -> SimResult<Value> {
    let a = w.array(array)?;
    let l = pair_of(w, array, n, dev)?;
    let v = a.volume(dev)?;
    let remote = w
        .array(&l.remote_array)
        .ok()
        .and_then(|b| b.volumes.get(&l.remote_device));
    let larger = match remote {
        Some(r) if r.cap_mb > v.cap_mb => {
            if l.r1 {
                "R2"
            } else {
                "R1"
            }
        }
        Some(r) if r.cap_mb < v.cap_mb => {
            if l.r1 {
                "R1"
            } else {
                "R2"
            }
        }
        _ => "Equal",
    };
    Ok(json!({
        "localSymmetrixId": array, "remoteSymmetrixId": l.remote_array,
        "localRdfGroupNumber": l.group, "remoteRdfGroupNumber": l.remote_group,
        "localVolumeName": dev, "remoteVolumeName": l.remote_device,
        "localVolumeState": l.volume_state(), "remoteVolumeState": l.peer_state(),
        "volumeConfig": if l.r1 { "RDF1+TDEV" } else { "RDF2+TDEV" },
        "rdfMode": l.mode, "rdfpairState": l.state_at(now_ms, copy_ms), "largerRdfSide": larger,
        "local_wwn_external": v.wwn, "remote_wwn_external": remote.map(|r| r.wwn.clone()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let mut w = super::super::model::default_world();
        for (arr, dev) in [("000197800123", "00100"), ("000197800124", "00100")] {
            let a = w.arrays.get_mut(arr).unwrap();
            a.create_storage_group(super::super::model::NewStorageGroup {
                id: "g".into(),
                srp: Some("SRP_1".into()),
                slo: Some("Diamond".into()),
                ..Default::default()
            })
            .unwrap();
            let made = a
                .create_volumes_at("g", 1, 1024, Some("OS-v".into()), 0)
                .unwrap();
            assert_eq!(made, vec![dev.to_string()]);
        }
        w
    }

    #[test]
    fn pairs_follow_the_arrays_rules() {
        let mut w = world();
        let (a, b) = ("000197800123", "000197800124");
        create_pair(&mut w, a, 1, "00100", "00100", "Synchronous", true, 0).unwrap();
        let st = |w: &World, now| pair(w, a, 1, "00100", now, 100).unwrap()["rdfpairState"].clone();
        assert_eq!(st(&w, 50), "SyncInProg");
        assert_eq!(st(&w, 100), "Synchronized");
        // the twin's side says the same, as the R2
        let r2 = pair(&w, b, 1, "00100", 100, 100).unwrap();
        assert_eq!(
            (r2["volumeConfig"].as_str(), r2["localVolumeState"].as_str()),
            (Some("RDF2+TDEV"), Some("Write Disabled"))
        );
        // a paired volume is neither deleted nor grown while it copies
        let e = w
            .arrays
            .get_mut(a)
            .unwrap()
            .delete_volume("00100")
            .unwrap_err();
        assert!(e.message.contains("RDF"), "{}", e.message);
        let e = w
            .arrays
            .get_mut(a)
            .unwrap()
            .expand_volume("00100", 2048)
            .unwrap_err();
        assert!(e.message.contains("RDF"), "{}", e.message);
        // failover: the R2 serves, the R1 is write disabled
        assert!(pair_action(&mut w, a, 1, "00100", "Failover", 50, 100).is_err());
        pair_action(&mut w, a, 1, "00100", "Failover", 200, 100).unwrap();
        let p = pair(&w, a, 1, "00100", 200, 100).unwrap();
        assert_eq!(p["rdfpairState"], "Failed Over");
        assert_eq!(p["localVolumeState"], "Write Disabled");
        assert_eq!(p["remoteVolumeState"], "Ready");
        assert!(delete_pair(&mut w, a, 1, "00100", 200, 100).is_err());
        pair_action(&mut w, a, 1, "00100", "Failback", 300, 100).unwrap();
        assert_eq!(st(&w, 350), "SyncInProg");
        // suspend, grow the R2 then the R1, establish again
        pair_action(&mut w, a, 1, "00100", "Suspend", 400, 100).unwrap();
        w.arrays
            .get_mut(a)
            .unwrap()
            .expand_volume("00100", 2048)
            .unwrap();
        let e = pair_action(&mut w, a, 1, "00100", "Establish", 400, 100).unwrap_err();
        assert!(e.message.contains("smaller"), "{}", e.message);
        w.arrays
            .get_mut(b)
            .unwrap()
            .expand_volume("00100", 2048)
            .unwrap();
        pair_action(&mut w, a, 1, "00100", "Establish", 400, 100).unwrap();
        pair_action(&mut w, a, 1, "00100", "Split", 600, 100).unwrap();
        delete_pair(&mut w, a, 1, "00100", 600, 100).unwrap();
        assert!(w.arrays[a].volumes["00100"].rdf.is_none());
        assert!(w.arrays[b].volumes["00100"].rdf.is_none());
        // a smaller target is refused
        w.arrays
            .get_mut(a)
            .unwrap()
            .expand_volume("00100", 4096)
            .unwrap();
        let e = create_pair(&mut w, a, 1, "00100", "00100", "Synchronous", true, 0).unwrap_err();
        assert!(e.message.contains("at least as large"), "{}", e.message);
    }
}
