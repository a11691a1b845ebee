//! Acceptance tests for `vmax_volume`'s host I/O limits (`qos`) and
//! `compression`: the real `terraform` against `vmax-sim` (also run on the
//! PowerMax seed, whose service levels have no workloads).

mod support;
use serde_json::{Value, json};
use support::{Sim, Tf};

fn vol(res: &str, name: &str, extra: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name = \"{name}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n{}{extra}}}\n",
        support::workload_line()
    )
}

/// `OS-SRP_1-Diamond[-DSS]<suffix>-SG`.
fn group(suffix: &str) -> String {
    support::group_with_workload("Diamond").replace("-SG", &format!("{suffix}-SG"))
}

fn sg(sim: &Sim, name: &str) -> Value {
    sim.array()["storage_groups"][name].clone()
}

fn limits(sim: &Sim, name: &str) -> Value {
    let g = sg(sim, name);
    assert!(!g.is_null(), "group {name} is missing");
    g["host_io_limit"].clone()
}

fn groups_of(sim: &Sim, dev: &str) -> Value {
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    sim.rest("GET", &format!("{sp}/volume/{dev}"), None).1["storageGroupId"].clone()
}

/// The plan is one in-place update, nothing replaced.
fn updates_in_place(tf: &Tf) {
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("update in-place") && !plan.contains("must be replaced"),
        "{plan}"
    );
}

#[test]
fn limits_and_compression_have_their_own_groups_and_change_in_place() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let qos_block = |iops: u32| {
        format!(
            "  qos {{\n    max_iops = {iops}\n    max_mbps = 200\n    distribution = \"OnFailure\"\n  }}\n"
        )
    };
    let cfg = |a: &str, b: &str| {
        format!(
            "{}{}{}",
            sim.provider_block(),
            vol("a", "qa", a),
            vol("b", "qb", b)
        )
    };

    // two volumes of one service level: only the one asking has limits
    tf.write(&cfg(&qos_block(5000), ""));
    tf.apply();
    let (a, b) = (tf.resource("vmax_volume.a"), tf.resource("vmax_volume.b"));
    let qa = group("-Q5000IO-200MB-OnFail");
    assert_eq!(a["storage_group"], qa);
    assert_eq!(b["storage_group"], group(""));
    assert_eq!(
        a["qos"],
        json!({"max_iops": 5000, "max_mbps": 200, "distribution": "OnFailure"})
    );
    assert!(b["qos"].is_null(), "{b}");
    assert!(b["compression"].is_null(), "{b}");
    assert_eq!(
        limits(&sim, &qa),
        json!({"host_io_limit_io_sec": "5000", "host_io_limit_mb_sec": "200", "dynamic_distribution": "OnFailure"})
    );
    assert!(limits(&sim, &group("")).is_null());
    tf.assert_empty_plan();
    let (dev_a, dev_b) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
    );

    // new limits: in place, same device, the old group is gone
    tf.write(&cfg(&qos_block(6000), ""));
    updates_in_place(&tf);
    tf.apply();
    let a = tf.resource("vmax_volume.a");
    assert_eq!(a["id"], dev_a.as_str());
    let qa6 = group("-Q6000IO-200MB-OnFail");
    assert_eq!(a["storage_group"], qa6);
    assert_eq!(groups_of(&sim, &dev_a), json!([qa6]));
    assert_eq!(limits(&sim, &qa6)["host_io_limit_io_sec"], "6000");
    assert!(sg(&sim, &qa).is_null(), "emptied group {qa} left behind");
    tf.assert_empty_plan();

    // limits changed on the array show as drift; apply sets them back
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    let (s, r) = sim.rest(
        "PUT",
        &format!("{sp}/storagegroup/{qa6}"),
        Some(json!({"editStorageGroupActionParam": {"setHostIOLimitsParam": {
            "host_io_limit_io_sec": "9000", "host_io_limit_mb_sec": "200", "dynamicDistribution": "OnFailure"}}})),
    );
    assert_eq!(s, 200, "{r}");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("9000 -> 6000"), "{plan}");
    tf.apply();
    assert_eq!(limits(&sim, &qa6)["host_io_limit_io_sec"], "6000");
    tf.assert_empty_plan();
    // limits put on the group of volumes without any: drift too
    let (s, r) = sim.rest(
        "PUT",
        &format!("{sp}/storagegroup/{}", group("")),
        Some(json!({"editStorageGroupActionParam": {"setHostIOLimitsParam": {"host_io_limit_mb_sec": "50"}}})),
    );
    assert_eq!(s, 200, "{r}");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    tf.apply();
    assert!(limits(&sim, &group("")).is_null());
    tf.assert_empty_plan();

    // removing the block: the volume joins the group without limits
    tf.write(&cfg("", "  compression = false\n"));
    updates_in_place(&tf);
    tf.apply();
    let (a, b) = (tf.resource("vmax_volume.a"), tf.resource("vmax_volume.b"));
    assert_eq!(a["id"], dev_a.as_str());
    assert!(a["qos"].is_null(), "{a}");
    assert_eq!(a["storage_group"], group(""));
    assert!(sg(&sim, &qa6).is_null(), "emptied group {qa6} left behind");
    // compression off: the -CD group, made without compression
    assert_eq!(b["id"], dev_b.as_str());
    assert_eq!(b["compression"], false);
    let cd = group("-CD");
    assert_eq!(b["storage_group"], cd);
    assert_eq!(sg(&sim, &cd)["compression"], false);
    assert_eq!(sg(&sim, &group(""))["compression"], true);
    tf.assert_empty_plan();

    // someone turns compression on for the -CD group: drift, set back
    let (s, r) = sim.rest(
        "PUT",
        &format!("{sp}/storagegroup/{cd}"),
        Some(
            json!({"editStorageGroupActionParam": {"editCompressionParam": {"compression": true}}}),
        ),
    );
    assert_eq!(s, 200, "{r}");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    tf.apply();
    assert_eq!(sg(&sim, &cd)["compression"], false);
    tf.assert_empty_plan();

    // back to the array's default, and both on with limits in one group
    tf.write(&cfg("", ""));
    updates_in_place(&tf);
    tf.apply();
    assert_eq!(tf.resource("vmax_volume.b")["storage_group"], group(""));
    assert!(sg(&sim, &cd).is_null());
    tf.assert_empty_plan();
    let shared = "  compression = true\n  qos {\n    max_mbps = 300\n  }\n";
    tf.write(&cfg(shared, shared));
    updates_in_place(&tf);
    tf.apply();
    let q300 = group("-Q300MB");
    assert_eq!(groups_of(&sim, &dev_a), json!([q300]));
    assert_eq!(groups_of(&sim, &dev_b), json!([q300]));
    assert_eq!(
        limits(&sim, &q300),
        json!({"host_io_limit_io_sec": "NOLIMIT", "host_io_limit_mb_sec": "300", "dynamic_distribution": "Never"})
    );
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn an_exported_volume_keeps_its_view_through_a_limits_change() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = |extra: &str| {
        format!(
            "{}{}resource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.v.id\n  host = \"web1\"\n  initiator = \"iqn.1993-08.org.debian:01:web1\"\n}}\n",
            sim.provider_block(),
            vol("v", "exp", extra)
        )
    };
    tf.write(&cfg("  qos {\n    max_iops = 1000\n  }\n"));
    tf.apply();
    tf.assert_empty_plan();
    let info = |tf: &Tf| -> Value {
        let v: Value = serde_json::from_str(
            tf.resource("vmax_iscsi_export.e")["connection_info"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        v["data"].clone()
    };
    let before = info(&tf);
    assert_eq!(before["target_lun"], 1, "{before}");
    let dev = tf.resource("vmax_volume.v")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let views = sim.array()["masking_views"].clone();
    // the host's child group carries the policy's limits
    let child = groups_of(&sim, &dev)[0].as_str().unwrap().to_string();
    assert!(
        child.starts_with("OS-web1-") && child.contains("-Q"),
        "{child}"
    );
    assert_eq!(limits(&sim, &child)["host_io_limit_io_sec"], "1000");
    let parents = sg(&sim, &child)["parents"].clone();
    assert_eq!(parents.as_array().map(Vec::len), Some(1), "{parents}");
    // the volume still says its policy's default group
    assert_eq!(
        tf.resource("vmax_volume.v")["storage_group"],
        group("-Q1000IO")
    );

    tf.write(&cfg("  qos {\n    max_iops = 2000\n  }\n"));
    updates_in_place(&tf);
    tf.apply();
    let child2 = groups_of(&sim, &dev)[0].as_str().unwrap().to_string();
    assert_ne!(child2, child);
    assert_eq!(limits(&sim, &child2)["host_io_limit_io_sec"], "2000");
    assert!(
        sg(&sim, &child).is_null(),
        "emptied child {child} left behind"
    );
    assert_eq!(sg(&sim, &child2)["parents"], parents);
    assert_eq!(sim.array()["masking_views"], views);
    let after = info(&tf);
    assert_eq!(after["target_lun"], before["target_lun"]);
    assert_eq!(after["target_iqn"], before["target_iqn"]);
    tf.assert_empty_plan();

    // limits off while exported: a child without the -Q part
    tf.write(&cfg(""));
    updates_in_place(&tf);
    tf.apply();
    let child3 = groups_of(&sim, &dev)[0].as_str().unwrap().to_string();
    assert!(!child3.contains("-Q"), "{child3}");
    assert!(limits(&sim, &child3).is_null());
    assert_eq!(info(&tf)["target_lun"], before["target_lun"]);
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn import_reads_limits_and_compression_from_the_group() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    // a volume someone made in their own group with limits and no compression
    let (s, b) = sim.rest(
        "POST",
        &format!("{sp}/storagegroup"),
        Some(json!({"srpId": "SRP_1", "storageGroupId": "legacy_qos", "emulation": "FBA",
            "sloBasedStorageGroupParam": [{"sloId": "Diamond", "workloadSelection": support::workload(), "noCompression": true,
                "setHostIOLimitsParam": {"host_io_limit_io_sec": "3000", "dynamicDistribution": "Always"},
                "volumeAttributes": [{"num_of_vols": 1, "volume_size": "2", "capacityUnit": "GB",
                    "volumeIdentifier": {"identifier_name": "legacy", "volumeIdentifierChoice": "identifier_name"}}]}]})),
    );
    assert_eq!(s, 201, "{b}");
    let dev = sim
        .volumes()
        .into_iter()
        .find(|(_, i)| i == "legacy")
        .map(|(d, _)| d)
        .expect("legacy volume");
    let tf = Tf::new();
    let cfg = |extra: &str| {
        format!(
            "{}resource \"vmax_volume\" \"v\" {{\n  name = \"legacy\"\n  size_gb = 2\n  service_level = \"Diamond\"\n{}{extra}}}\n",
            sim.provider_block(),
            support::workload_line()
        )
    };
    let wanted =
        "  compression = false\n  qos {\n    max_iops = 3000\n    distribution = \"Always\"\n  }\n";
    tf.write(&cfg(wanted));
    tf.ok(&["import", "-no-color", "vmax_volume.v", &dev]);
    let v = tf.resource("vmax_volume.v");
    assert_eq!(
        v["qos"],
        json!({"max_iops": 3000, "max_mbps": null, "distribution": "Always"})
    );
    assert_eq!(v["compression"], false);
    // the first apply renames it and moves it to its policy's group only
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(!plan.contains("~ qos"), "{plan}");
    assert!(!plan.contains("~ compression"), "{plan}");
    assert!(plan.contains("(1 unchanged block hidden)"), "{plan}");
    tf.apply();
    let home = group("-CD-Q3000IO-Always");
    assert_eq!(groups_of(&sim, &dev), json!([home]));
    assert_eq!(limits(&sim, &home)["host_io_limit_io_sec"], "3000");
    assert_eq!(sg(&sim, &home)["compression"], false);
    // their group, emptied, is theirs: left alone
    assert!(!sg(&sim, "legacy_qos").is_null());
    tf.assert_empty_plan();
    tf.destroy();
    let (s, _) = sim.rest("DELETE", &format!("{sp}/storagegroup/legacy_qos"), None);
    assert_eq!(s, 204);
    sim.assert_clean();
}

#[test]
fn compression_is_refused_at_plan_on_an_array_that_does_not_compress() {
    if !support::acc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut seed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/powermax-8000.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // a hybrid array: no compression
    seed["arrays"][0]["symmetrix_id"] = json!(support::ARRAY);
    seed["arrays"][0]["model"] = json!("VMAX400K");
    seed["arrays"][0]["compression_capable"] = json!(false);
    let path = dir.path().join("hybrid.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    let sim = Sim::start_with(&["--seed-file", path.to_str().unwrap()]);
    let tf = Tf::new();
    let hcl = |extra: &str| {
        format!(
            "{}resource \"vmax_volume\" \"v\" {{\n  name = \"v\"\n  size_gb = 1\n  service_level = \"Diamond\"\n{extra}}}\ndata \"vmax_pool\" \"p\" {{}}\noutput \"pool\" {{\n  value = [data.vmax_pool.p.compression_capable, data.vmax_pool.p.qos_support]\n}}\n",
            sim.provider_block()
        )
    };
    for extra in ["  compression = false\n", "  compression = true\n"] {
        tf.write(&hcl(extra));
        let out = tf.fails(&["plan", "-no-color", "-input=false"]);
        assert!(
            out.contains("compression") && out.contains(&format!("array {}", support::ARRAY)),
            "{out}"
        );
        assert!(out.contains("does not compress"), "{out}");
    }
    assert!(
        sim.array()["volumes"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );
    // without a choice it works, and limits work on any array
    tf.write(&hcl("  qos {\n    max_iops = 100\n  }\n"));
    tf.apply();
    let v = tf.resource("vmax_volume.v");
    assert_eq!(v["storage_group"], "OS-SRP_1-Diamond-Q100IO-SG");
    assert_eq!(sg(&sim, "OS-SRP_1-Diamond-Q100IO-SG")["compression"], false);
    let out: Value = serde_json::from_str(&tf.ok(&["output", "-json", "pool"])).unwrap();
    assert_eq!(out, json!([false, true]));
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}
