//! The fault matrix: a realistic configuration applied under transient
//! faults together (5 % 503 answers, 1 % failed jobs, 50 ± 50 ms latency)
//! at `-parallelism=10` converges within a few applies with no orphan and
//! no duplicate, plans empty, and destroys back to an empty array.

mod support;
use serde_json::json;
use std::collections::BTreeSet;
use support::{Sim, Tf};

const CONFIG: &str = r#"
locals {
  levels = ["Diamond", "Gold", "Silver", "Bronze", "Optimized"]
}

resource "vmax_volume" "v" {
  count         = 50
  name          = "fm-${count.index}"
  size_gb       = 1 + count.index % 3
  service_level = local.levels[count.index % 5]
}

resource "vmax_snapshot" "s" {
  count     = 20
  volume_id = vmax_volume.v[count.index].id
  name      = "snap-${count.index}"
}

resource "vmax_iscsi_export" "e" {
  count     = 20
  volume_id = vmax_volume.v[20 + count.index].id
  host      = "host-${count.index % 5}"
  initiator = "iqn.1993-08.org.debian:01:host-${count.index % 5}"
}

resource "vmax_volume" "clone" {
  count   = 5
  name    = "fm-clone-${count.index}"
  size_gb = 3
  source {
    volume_id = vmax_volume.v[40 + count.index].id
  }
}

resource "vmax_volume" "copy" {
  count         = 5
  name          = "fm-copy-${count.index}"
  size_gb       = 3
  wait_for_copy = true
  source {
    snapshot_id = vmax_snapshot.s[count.index].id
  }
}
"#;

#[test]
fn converges_under_faults_without_orphans_or_duplicates() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--seed", "7"]);
    let tf = Tf::new();
    tf.write(&format!("{}{CONFIG}", sim.provider_block()));
    sim.set_faults(json!({"error_rate": 0.05, "job_failure_rate": 0.01, "latency_ms": 0, "jitter_ms": 100, "seed": 11}));
    let apply = [
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-parallelism=10",
    ];
    let applies = tf.until_ok(&apply, 6);
    eprintln!("converged after {applies} applies");
    tf.assert_empty_plan();

    // every volume on the array is in state, once
    let vols = sim.volumes();
    let idents: Vec<String> = vols.iter().map(|(_, i)| i.clone()).collect();
    let unique: BTreeSet<&String> = idents.iter().collect();
    assert_eq!(
        unique.len(),
        idents.len(),
        "duplicate identifiers: {idents:?}"
    );
    assert_eq!(vols.len(), 60, "{idents:?}");
    let state = tf.show();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_state: BTreeSet<String> = resources
        .iter()
        .filter(|r| r["type"] == "vmax_volume")
        .map(|r| r["values"]["id"].as_str().unwrap_or("").to_string())
        .collect();
    let on_array: BTreeSet<String> = vols.iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(in_state, on_array, "volumes outside state");
    // snapshots: the 20 of the configuration plus one temporary snapshot
    // per clone whose copy runs in the background; nothing else
    let snaps = sim.array()["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let user = snaps
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("snap-")))
        .count();
    let temp = snaps
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("temp-")))
        .count();
    assert_eq!((user, temp, snaps.len()), (20, 5, 25), "{snaps:?}");
    let a = sim.array();
    assert_eq!(
        a["hosts"].as_object().map(|m| m.len()),
        Some(5),
        "{}",
        a["hosts"]
    );
    assert_eq!(a["masking_views"].as_object().map(|m| m.len()), Some(5));

    let destroys = tf.until_ok(
        &[
            "destroy",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=10",
        ],
        6,
    );
    eprintln!("destroyed after {destroys} runs");
    sim.set_faults(json!({}));
    sim.assert_clean();
    let snaps = sim.array()["snapshots"].as_array().map(|a| a.len());
    assert!(snaps.is_none_or(|n| n == 0), "snapshots left");
}
