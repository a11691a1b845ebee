//! SRDF/S replication through the real `terraform`, against vmax-sim's two
//! arrays (000197800123 and its partner 000197800124, RDF group `os-rdf`).

mod support;
use serde_json::{Value, json};
use support::{ARRAY, Sim, Tf};

const REMOTE: &str = "000197800124";

/// The provider block with a replication block.
fn provider(sim: &Sim, allow_extend: bool, label: &str) -> String {
    sim.provider_block().replace(
        "job_poll_interval = 0.05\n}",
        &format!(
            "job_poll_interval = 0.05\n  replication {{\n    remote_array       = \"{REMOTE}\"\n    remote_port_groups = [\"OS-iscsi-PG\"]\n    rdf_group_label    = \"{label}\"\n    allow_extend       = {allow_extend}\n  }}\n}}"
        ),
    )
}

fn vol(size: u32, extra: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"v\" {{\n  name = \"rep1\"\n  size_gb = {size}\n  service_level = \"Diamond\"\n{}{extra}}}\n",
        support::workload_line()
    )
}

fn remote(sim: &Sim) -> Value {
    sim.state()["arrays"][REMOTE].clone()
}

fn pair(sim: &Sim, dev: &str) -> (u16, Value) {
    sim.rest(
        "GET",
        &format!("/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume/{dev}"),
        None,
    )
}

fn groups_of(sim: &Sim, array: &str, dev: &str) -> Value {
    sim.rest(
        "GET",
        &format!("/100/sloprovisioning/symmetrix/{array}/volume/{dev}"),
        None,
    )
    .1["storageGroupId"]
        .clone()
}

/// Both arrays hold no volume, group, host or view.
fn both_clean(sim: &Sim) {
    sim.assert_clean();
    let r = remote(sim);
    for k in ["volumes", "storage_groups", "hosts", "masking_views"] {
        assert!(
            r[k].as_object().is_none_or(|m| m.is_empty()),
            "remote {k} left behind: {}",
            r[k]
        );
    }
}

fn info(tf: &Tf) -> Value {
    serde_json::from_str::<Value>(
        tf.resource("vmax_iscsi_export.e")["connection_info"]
            .as_str()
            .unwrap(),
    )
    .unwrap()["data"]
        .clone()
}

#[test]
fn replicated_volume_fails_over_and_back_with_its_export() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let export = "resource \"vmax_iscsi_export\" \"e\" {\n  volume_id   = vmax_volume.v.id\n  active_side = vmax_volume.v.replication_active_side\n  host        = \"dr1\"\n  initiator   = \"iqn.1993-08.org.debian:01:dr1\"\n}\n";
    let cfg = |side: &str| {
        format!(
            "{}{}{export}",
            provider(&sim, false, "os-rdf"),
            vol(
                2,
                &format!("  replicated = true\n  replication_active_side = \"{side}\"\n")
            )
        )
    };
    tf.write(&cfg("local"));
    tf.apply();
    let v = tf.resource("vmax_volume.v");
    let (dev, twin) = (
        v["id"].as_str().unwrap().to_string(),
        v["remote_device_id"].as_str().unwrap().to_string(),
    );
    assert_eq!(v["replication_state"], "Synchronized");
    let re_group = support::group_with_workload("Diamond").replace("-SG", "-RE-SG");
    assert_eq!(v["storage_group"], re_group);
    // the twin: same identifier, the remote -RE group, paired and in sync
    assert_eq!(remote(&sim)["volumes"][&twin]["identifier"], "OS-rep1");
    assert_eq!(groups_of(&sim, REMOTE, &twin), json!([re_group]));
    let (s, p) = pair(&sim, &dev);
    assert_eq!(s, 200);
    assert_eq!(
        (
            p["remoteSymmetrixId"].as_str(),
            p["remoteVolumeName"].as_str(),
            p["rdfpairState"].as_str(),
            p["rdfMode"].as_str()
        ),
        (
            Some(REMOTE),
            Some(twin.as_str()),
            Some("Synchronized"),
            Some("Synchronous")
        )
    );
    let e = tf.resource("vmax_iscsi_export.e");
    assert_eq!(e["array"], ARRAY);
    assert_eq!(e["device_id"], dev.as_str());
    let local_iqns = info(&tf)["target_iqn"].clone();
    tf.assert_empty_plan();

    // failover in place: the export moves to the remote array in the same apply
    tf.write(&cfg("remote"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("vmax_volume.v will be updated in-place"),
        "{plan}"
    );
    assert!(
        plan.contains("vmax_iscsi_export.e must be replaced"),
        "{plan}"
    );
    tf.apply();
    let v = tf.resource("vmax_volume.v");
    assert_eq!(v["id"], dev.as_str());
    assert_eq!(v["replication_state"], "Failed Over");
    assert_eq!(pair(&sim, &dev).1["localVolumeState"], "Write Disabled");
    let e = tf.resource("vmax_iscsi_export.e");
    assert_eq!(e["array"], REMOTE);
    assert_eq!(e["device_id"], twin.as_str());
    let i = info(&tf);
    assert_ne!(i["target_iqn"], local_iqns);
    assert!(
        i["target_portal"]
            .as_str()
            .unwrap()
            .starts_with("192.0.2.2"),
        "{i}"
    );
    // the local side's view is gone, the remote one shows the twin
    assert!(
        sim.array()["masking_views"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );
    assert_eq!(
        remote(&sim)["masking_views"].as_object().map(|m| m.len()),
        Some(1)
    );
    tf.assert_empty_plan();

    // a failback made outside Terraform shows as drift
    let (s, b) = sim.rest(
        "PUT",
        &format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume/{dev}"),
        Some(json!({"action": "Failback"})),
    );
    assert_eq!(s, 200, "{b}");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("\"local\" -> \"remote\""), "{plan}");
    tf.write(&cfg("local"));
    tf.apply();
    assert_eq!(tf.resource("vmax_iscsi_export.e")["array"], ARRAY);
    assert_eq!(info(&tf)["target_iqn"], local_iqns);
    tf.assert_empty_plan();

    tf.destroy();
    both_clean(&sim);
}

#[test]
fn replication_changes_in_place_and_extends_only_when_allowed() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        provider(&sim, false, "os-rdf"),
        vol(1, "")
    ));
    tf.apply();
    let dev = tf.resource("vmax_volume.v")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // on: the twin is made and paired, the volume stays
    tf.write(&format!(
        "{}{}",
        provider(&sim, false, "os-rdf"),
        vol(1, "  replicated = true\n")
    ));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    tf.apply();
    let v = tf.resource("vmax_volume.v");
    assert_eq!(v["id"], dev.as_str());
    assert_eq!(v["replication_state"], "Synchronized");
    let twin = v["remote_device_id"].as_str().unwrap().to_string();
    tf.assert_empty_plan();

    // growing is refused at plan time without allow_extend
    tf.write(&format!(
        "{}{}",
        provider(&sim, false, "os-rdf"),
        vol(2, "  replicated = true\n")
    ));
    let out = tf.fails(&["plan", "-no-color", "-input=false"]);
    assert!(
        out.contains("allow_extend") && out.contains("size_gb"),
        "{out}"
    );
    // with it, both sides grow and the pair is in sync again
    tf.write(&format!(
        "{}{}",
        provider(&sim, true, "os-rdf"),
        vol(2, "  replicated = true\n")
    ));
    tf.apply();
    assert_eq!(sim.array()["volumes"][&dev]["cap_mb"], 2048);
    assert_eq!(remote(&sim)["volumes"][&twin]["cap_mb"], 2048);
    assert_eq!(pair(&sim, &dev).1["rdfpairState"], "Synchronized");
    tf.assert_empty_plan();

    // off: pair and twin go, the volume stays and leaves its -RE group
    tf.write(&format!("{}{}", provider(&sim, true, "os-rdf"), vol(2, "")));
    tf.apply();
    let v = tf.resource("vmax_volume.v");
    assert_eq!(v["id"], dev.as_str());
    assert!(v["remote_device_id"].is_null());
    assert_eq!(pair(&sim, &dev).0, 404);
    assert!(
        remote(&sim)["volumes"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );
    assert_eq!(
        groups_of(&sim, ARRAY, &dev),
        json!([support::group_with_workload("Diamond")])
    );
    tf.assert_empty_plan();
    tf.destroy();
    both_clean(&sim);
}

#[test]
fn a_failed_replicated_create_leaves_nothing_on_either_array() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        provider(&sim, false, "os-rdf"),
        vol(1, "  replicated = true\n")
    ));
    // each step fails once: the twin, the pair, the wait for synchronization
    let steps = [
        json!({"method": "POST", "path_contains": format!("symmetrix/{REMOTE}/storagegroup"), "status": 500, "times": 0}),
        json!({"method": "PUT", "path_contains": format!("symmetrix/{REMOTE}/storagegroup"), "status": 500, "times": 0}),
        json!({"method": "POST", "path_contains": "/rdf_group/1/volume", "status": 500, "times": 0}),
        json!({"method": "POST", "path_contains": "/rdf_group/1/volume", "fail_job": true, "times": 0}),
        json!({"method": "GET", "path_contains": "/rdf_group/1/volume/", "status": 500, "times": 0}),
    ];
    for rule in steps {
        sim.set_faults(json!({"rules": [rule.clone()]}));
        let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        assert!(out.contains("Error"), "{rule}: {out}");
        sim.set_faults(json!({}));
        both_clean(&sim);
        assert!(
            tf.show()["values"].is_null()
                || tf.show()["values"]["root_module"]["resources"]
                    .as_array()
                    .is_none_or(|r| r.is_empty()),
            "{rule}: state keeps a resource"
        );
    }
    tf.apply();
    tf.assert_empty_plan();
    tf.destroy();
    both_clean(&sim);
}

#[test]
fn import_recognises_a_pair_and_bad_settings_are_refused_at_plan() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    // a pair made outside Terraform
    let mk = |arr: &str| {
        let before: Vec<String> = sim.state()["arrays"][arr]["volumes"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let (s, b) = sim.rest("POST", &format!("/100/sloprovisioning/symmetrix/{arr}/storagegroup"), Some(json!({
            "srpId": "SRP_1", "storageGroupId": "theirs", "emulation": "FBA",
            "sloBasedStorageGroupParam": [{"sloId": "Diamond", "volumeAttributes": [{"num_of_vols": 1, "volume_size": "1", "capacityUnit": "GB",
                "volumeIdentifier": {"identifier_name": "theirs", "volumeIdentifierChoice": "identifier_name"}}]}]})));
        assert_eq!(s, 201, "{b}");
        sim.state()["arrays"][arr]["volumes"]
            .as_object()
            .unwrap()
            .keys()
            .find(|k| !before.contains(k))
            .unwrap()
            .clone()
    };
    let (dev, twin) = (mk(ARRAY), mk(REMOTE));
    let (s, b) = sim.rest(
        "POST",
        &format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume"),
        Some(json!({"deviceNameListSource": [{"name": dev}], "deviceNameListTarget": [{"name": twin}],
            "replicationMode": "Synchronous", "establish": "true", "rdfType": "RDF1"})),
    );
    assert_eq!(s, 201, "{b}");
    let tf = Tf::new();
    tf.write(&format!(
        "{}resource \"vmax_volume\" \"v\" {{\n  name = \"theirs\"\n  size_gb = 1\n  service_level = \"Diamond\"\n  replicated = true\n  deletion_policy = \"unmanage\"\n}}\n",
        provider(&sim, false, "os-rdf")
    ));
    tf.ok(&["import", "-no-color", "vmax_volume.v", &dev]);
    let v = tf.resource("vmax_volume.v");
    assert_eq!(v["replicated"], true);
    assert_eq!(v["remote_device_id"], twin.as_str());
    assert_eq!(v["replication_active_side"], "local");
    assert!(
        ["SyncInProg", "Synchronized"].contains(&v["replication_state"].as_str().unwrap()),
        "{v}"
    );

    // refused at plan time, naming what to configure
    let bad = |provider_block: String, words: &[&str]| {
        let tf = Tf::new();
        tf.write(&format!(
            "{provider_block}{}",
            vol(1, "  replicated = true\n")
        ));
        let out = tf.fails(&["plan", "-no-color", "-input=false"]);
        for w in words {
            assert!(out.contains(w), "expected {w:?} in:\n{out}");
        }
    };
    bad(sim.provider_block(), &["replicated", "replication block"]);
    bad(
        provider(&sim, false, "no-such-rdf"),
        &["no-such-rdf", "os-rdf (1)"],
    );
    bad(
        provider(&sim, false, "os-rdf").replace(REMOTE, "000197800999"),
        &["000197800999"],
    );
}
