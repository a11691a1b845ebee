//! Group commit and the refresh caches (issue 14): creates into one pool
//! sent together stay correct under faults, a failed batch leaves nothing
//! and names each volume, and no cache hides the array's truth from a
//! new command.

mod support;
use serde_json::json;
use std::collections::BTreeMap;
use support::{Sim, Tf};

fn volumes(prefix: &str, n: usize, size: impl Fn(usize) -> u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "resource \"vmax_volume\" \"{prefix}{i}\" {{\n  name = \"{prefix}-{i}\"\n  size_gb = {}\n  service_level = \"Diamond\"\n}}\n",
                size(i)
            )
        })
        .collect()
}

/// Identifier -> (device, size in GB) of the volumes on the array.
fn on_array(sim: &Sim, prefix: &str) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut out: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    let a = sim.array();
    for (dev, v) in a["volumes"].as_object().unwrap() {
        let ident = v["identifier"].as_str().unwrap_or_default();
        if ident.starts_with(prefix) {
            let mb = v["cap_mb"].as_f64().unwrap_or(0.0);
            out.entry(ident.to_string())
                .or_default()
                .push((dev.clone(), mb / 1024.0));
        }
    }
    out
}

#[test]
fn thirty_creates_into_one_pool_converge_under_faults() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&[
        "--error-rate",
        "0.05",
        "--job-failure-rate",
        "0.01",
        "--seed",
        "14",
    ]);
    let tf = Tf::new();
    let size = |i: usize| 1 + (i % 7) as u32;
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volumes("gc", 30, size)
    ));
    let before = sim.metrics();
    tf.until_ok(
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=30",
        ],
        6,
    );
    let after = sim.metrics();
    sim.set_faults(json!({}));
    tf.assert_empty_plan();
    // every volume once, with its own size and identifier
    let arr = on_array(&sim, "OS-gc-");
    assert_eq!(arr.len(), 30, "{arr:?}");
    for i in 0..30 {
        let r = tf.resource(&format!("vmax_volume.gc{i}"));
        let ident = format!("OS-gc-{i}");
        let found = &arr[&ident];
        assert_eq!(found.len(), 1, "{ident} made more than once: {found:?}");
        assert_eq!(r["id"], found[0].0, "{ident}: state and array disagree");
        assert_eq!(found[0].1, size(i) as f64, "{ident} has another's size");
        assert_eq!(r["size_gb"], size(i));
    }
    // the creates were sent together: far fewer create requests than volumes
    let key = "PUT /{ver}/sloprovisioning/symmetrix/{array}/storagegroup/{sg}";
    let puts = after["requests"][key].as_u64().unwrap_or(0)
        - before["requests"][key].as_u64().unwrap_or(0);
    assert!(puts < 25, "{puts} create requests for 30 volumes");
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn a_failed_batch_names_each_volume_and_leaves_nothing() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volumes("fb", 1, |_| 1)
    ));
    tf.apply();
    // the first create is held, so the others queue up behind it; a
    // request holding two or more volumes (a batch) gets a failing job
    sim.set_faults(json!({"rules": [
        {"method": "PUT", "body_contains": "addVolumeParam", "delay_ms": 1500, "pass": true, "times": 1},
        {"method": "PUT", "body_contains": "},{\"capacityUnit\"", "fail_job": true, "message": "Simulated batch failure"},
    ]}));
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volumes("fb", 6, |i| i as u32 + 1)
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    sim.set_faults(json!({}));
    let named: Vec<usize> = (1..6)
        .filter(|i| {
            out.contains(&format!(
                "create volume OS-fb-{i} (sent to OS-SRP_1-Diamond-SG in one job with"
            ))
        })
        .collect();
    assert!(
        named.len() >= 2,
        "each failed member names its volume:\n{out}"
    );
    assert!(out.contains("Simulated batch failure"), "{out}");
    // nothing half-made: the array holds exactly what state holds
    let arr = on_array(&sim, "OS-fb-");
    let state = tf.show();
    let in_state: Vec<String> = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["values"]["volume_identifier"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(arr.len(), in_state.len(), "{arr:?} vs {in_state:?}");
    for i in &named {
        assert!(!arr.contains_key(&format!("OS-fb-{i}")), "{arr:?}");
    }
    tf.apply();
    tf.assert_empty_plan();
    assert_eq!(on_array(&sim, "OS-fb-").len(), 6);
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn a_new_command_sees_changes_made_outside_terraform() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volumes("oob", 3, |_| 2)
    ));
    tf.apply();
    tf.assert_empty_plan();
    let dev0 = tf.resource("vmax_volume.oob0")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dev1 = tf.resource("vmax_volume.oob1")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // grown and deleted behind Terraform's back
    let (s, b) = sim.rest(
        "PUT",
        &format!("/100/sloprovisioning/symmetrix/{}/volume/{dev0}", support::ARRAY),
        Some(json!({"editVolumeActionParam": {"expandVolumeParam": {"volumeAttribute": {"volume_size": "5", "capacityUnit": "GB"}}}})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = sim.rest(
        "PUT",
        &format!(
            "/100/sloprovisioning/symmetrix/{}/storagegroup/OS-SRP_1-Diamond-SG",
            support::ARRAY
        ),
        Some(json!({"editStorageGroupActionParam": {"removeVolumeParam": {"volumeId": [dev1]}}})),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = sim.rest(
        "DELETE",
        &format!(
            "/100/sloprovisioning/symmetrix/{}/volume/{dev1}",
            support::ARRAY
        ),
        None,
    );
    assert_eq!(s, 204, "{b}");
    // the configuration follows the growth: a refresh that saw it plans
    // nothing for oob0 (one that did not would plan 2 -> 5)
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volumes("oob", 3, |i| if i == 0 { 5 } else { 2 })
    ));
    let before = sim.metrics();
    let (code, plan) = tf.plan();
    let after = sim.metrics();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("vmax_volume.oob1 will be created"), "{plan}");
    assert!(!plan.contains("vmax_volume.oob0 will be"), "{plan}");
    assert!(
        plan.contains("1 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    // the refresh of the three volumes was one bulk read (Unisphere 10.x)
    let bulk = "GET /v1/systems/{array}/volumes";
    let one = "GET /{ver}/sloprovisioning/symmetrix/{array}/volume/{dev}";
    let n = |m: &serde_json::Value, k: &str| m["requests"][k].as_u64().unwrap_or(0);
    assert_eq!(
        n(&after, bulk) - n(&before, bulk),
        1,
        "{}",
        after["requests"]
    );
    assert!(
        n(&after, one) - n(&before, one) <= 1,
        "{}",
        after["requests"]
    );
}

#[test]
fn exports_to_one_host_are_moved_together_and_each_gets_its_lun() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--error-rate", "0.03", "--seed", "41"]);
    let tf = Tf::new();
    let n = 12;
    let mut hcl = format!("{}{}", sim.provider_block(), volumes("ex", n, |_| 1));
    for i in 0..n {
        hcl.push_str(&format!(
            "resource \"vmax_iscsi_export\" \"e{i}\" {{\n  volume_id = vmax_volume.ex{i}.id\n  host = \"batch-host\"\n  initiator = \"iqn.1993-08.org.debian:01:batch-host\"\n}}\n"
        ));
    }
    tf.write(&hcl);
    let tries = tf.until_ok(
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=12",
        ],
        4,
    );
    eprintln!("exports converged in {tries} applies");
    sim.set_faults(json!({}));
    tf.assert_empty_plan();
    // every export visible at its own LUN, in one view
    let a = sim.array();
    let mut luns = std::collections::BTreeSet::new();
    for i in 0..n {
        let e = tf.resource(&format!("vmax_iscsi_export.e{i}"));
        assert!(
            luns.insert(e["host_lun_id"].as_u64().unwrap()),
            "LUN reused: {e}"
        );
        assert_eq!(e["masking_view"], "OS-batch-host-I-OS-iscsi-PG-MV");
    }
    assert_eq!(a["masking_views"].as_object().unwrap().len(), 1);
    // the moves into the host's child group went together
    let log = sim.hook_get("/sim/requests");
    let moves = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["method"] == "PUT"
                && r["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("moveVolumeToStorageGroupParam"))
        })
        .count();
    assert!(moves < n, "{moves} move requests for {n} exports");
    tf.destroy();
    sim.assert_clean();
}
