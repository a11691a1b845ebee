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
            {"method": "GET", "path_contains": "/volume", "status": 503, "times": 4, "message": "Service Unavailable"}
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
fn thirty_volumes_to_one_host_at_parallelism_30_repeatedly() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let mut cfg = sim.provider_block();
    cfg.push_str("resource \"vmax_volume\" \"v\" {\n  count = 30\n  name = \"p${count.index}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n}\n");
    cfg.push_str("resource \"vmax_iscsi_export\" \"e\" {\n  count = 30\n  volume_id = vmax_volume.v[count.index].id\n  host = \"busy-host\"\n  initiator = \"iqn.1993-08.org.debian:01:busy\"\n}\n");
    tf.write(&cfg);
    for round in 0..2 {
        tf.ok(&["apply", "-auto-approve", "-no-color", "-parallelism=30"]);
        let a = sim.array();
        assert_eq!(
            a["masking_views"].as_object().unwrap().len(),
            1,
            "round {round}"
        );
        assert_eq!(a["hosts"].as_object().unwrap().len(), 1, "round {round}");
        let mut luns: Vec<u64> = a["hosts"]["OS-busy-host-I-IG"]["luns"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .collect();
        luns.sort();
        assert_eq!(luns, (1..=30).collect::<Vec<u64>>(), "round {round}");
        tf.assert_empty_plan();
        tf.ok(&["destroy", "-auto-approve", "-no-color", "-parallelism=30"]);
        let a = sim.array();
        for k in ["volumes", "storage_groups", "hosts", "masking_views"] {
            assert!(
                a[k].as_object().unwrap().is_empty(),
                "round {round}: {k} left behind: {}",
                a[k]
            );
        }
    }
}

#[test]
fn unreachable_endpoint_and_schema_json() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    // a port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = sim
        .provider_block()
        .replace(&sim.url, &format!("https://127.0.0.1:{port}"));
    tf.write(&format!(
        "{cfg}resource \"vmax_volume\" \"a\" {{\n  name = \"x\"\n  size_gb = 1\n}}\n"
    ));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("cannot reach Unisphere at https://127.0.0.1:"),
        "{out}"
    );
    // the schema as Terraform sees it
    let o = tf.ok(&["providers", "schema", "-json"]);
    let j: serde_json::Value = serde_json::from_str(&o[o.find('{').unwrap()..]).unwrap();
    let p = &j["provider_schemas"]["registry.terraform.io/local/vmax"];
    assert_eq!(
        p["provider"]["block"]["attributes"]["password"]["sensitive"],
        true
    );
    for r in ["vmax_volume", "vmax_snapshot", "vmax_iscsi_export"] {
        assert!(p["resource_schemas"][r].is_object(), "{r} missing");
    }
    assert_eq!(p["resource_schemas"]["vmax_volume"]["version"], 1);
    for d in ["vmax_pool", "vmax_volume", "vmax_port_group"] {
        assert!(p["data_source_schemas"][d].is_object(), "{d} missing");
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

#[test]
fn read_after_write_lag_does_not_duplicate_volumes() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--lookup-lag-ms", "1500"]);
    let tf = Tf::new();
    tf.write(&format!("{}resource \"vmax_volume\" \"v\" {{\n  count = 3\n  name = \"lag${{count.index}}\"\n  size_gb = 1\n}}\n", sim.provider_block()));
    tf.apply();
    assert_eq!(sim.volumes().len(), 3);
    tf.assert_empty_plan();
}
