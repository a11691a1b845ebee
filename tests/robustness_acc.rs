//! Contention, transient failures, parallel exports, and `--debug` reattach.

mod support;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{Sim, Tf};

#[test]
fn device_lock_contention_and_503s_are_retried() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    sim.set_faults(json!({
        "error_rate": 0.05, "seed": 11,
        "rules": [
            {"method": "PUT", "path_contains": "/storagegroup/", "status": 500, "times": 3,
             "message": "A problem occurred modifying the storage group resource: Unable to acquire the Symmetrix device lock"},
            {"method": "GET", "path_contains": "/volume/", "status": 503, "times": 4, "message": "Service Unavailable"}
        ]
    }));
    let tf = Tf::new();
    let mut cfg = sim.provider_block();
    for i in 0..6 {
        cfg.push_str(&format!(
            "resource \"vmax_volume\" \"v{i}\" {{\n  name = \"r{i}\"\n  size_gb = 1\n}}\n"
        ));
    }
    tf.write(&cfg);
    tf.apply();
    sim.set_faults(json!({}));
    tf.assert_empty_plan();
    assert_eq!(
        sim.volumes().len(),
        6,
        "exactly one volume per resource: {:?}",
        sim.volumes()
    );
    let m = sim.metrics();
    assert!(m["status"]["500"].as_u64().unwrap_or(0) >= 3, "{m}");
    assert!(m["status"]["503"].as_u64().unwrap_or(0) >= 4, "{m}");
}

#[test]
fn twelve_volumes_to_one_host_in_parallel() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let mut cfg = sim.provider_block();
    cfg.push_str("resource \"vmax_volume\" \"v\" {\n  count = 12\n  name = \"p${count.index}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n}\n");
    cfg.push_str("resource \"vmax_iscsi_export\" \"e\" {\n  count = 12\n  volume_id = vmax_volume.v[count.index].id\n  host = \"busy-host\"\n  initiator = \"iqn.1993-08.org.debian:01:busy\"\n}\n");
    tf.write(&cfg);
    tf.ok(&["apply", "-auto-approve", "-no-color", "-parallelism=12"]);
    let a = sim.array();
    assert_eq!(a["masking_views"].as_object().unwrap().len(), 1);
    assert_eq!(a["hosts"].as_object().unwrap().len(), 1);
    let mut luns: Vec<u64> = a["hosts"]["OS-busy-host-I-IG"]["luns"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    luns.sort();
    assert_eq!(luns, (1..=12).collect::<Vec<u64>>());
    tf.assert_empty_plan();
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-parallelism=12"]);
    let a = sim.array();
    for k in ["volumes", "storage_groups", "hosts", "masking_views"] {
        assert!(
            a[k].as_object().unwrap().is_empty(),
            "{k} left behind: {}",
            a[k]
        );
    }
}

#[test]
fn debug_mode_serves_terraform_through_reattach() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-vmax"))
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(v.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("reattach line");
    let v: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    assert_eq!(v["registry.terraform.io/local/vmax"]["Test"], true);
    assert_eq!(v["registry.terraform.io/local/vmax"]["ProtocolVersion"], 6);
    let tf = Tf::new().env("TF_REATTACH_PROVIDERS", &reattach);
    tf.write(&format!(
        "{}resource \"vmax_volume\" \"a\" {{\n  name = \"dbg\"\n  size_gb = 1\n}}\n",
        sim.provider_block()
    ));
    tf.apply();
    assert_eq!(sim.volumes().len(), 1);
    let _ = child.kill();
    let _ = child.wait();
}
