//! Acceptance tests for `vmax_iscsi_export` against `vmax-sim`.

mod support;
use serde_json::{Value, json};
use support::{Sim, Tf};

const IQN1: &str = "iqn.1993-08.org.debian:01:host1";
const IQN2: &str = "iqn.1993-08.org.debian:01:host2";

fn vol(res: &str, name: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name = \"{name}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n{}}}\n",
        support::workload_line()
    )
}

fn export(res: &str, vol: &str, host: &str, iqn: &str, extra: &str) -> String {
    format!(
        "resource \"vmax_iscsi_export\" \"{res}\" {{\n  volume_id = vmax_volume.{vol}.id\n  host = \"{host}\"\n  initiator = \"{iqn}\"\n{extra}}}\n"
    )
}

/// The next plan re-creates the export (a fresh create when nothing of
/// it is left, a replacement when parts remain, which destroy removes
/// first); applying it leaves an empty plan.
fn export_is_recreated(tf: &Tf) {
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("vmax_iscsi_export.e will be created")
            || plan.contains("vmax_iscsi_export.e must be replaced"),
        "{plan}"
    );
    tf.apply();
    tf.assert_empty_plan();
}

/// Takes the volume out of its export's child group on the array (back to
/// its default group) and checks that the next plan re-creates the export.
fn recreated_after_leaving_the_view(sim: &Sim, tf: &Tf, dev: &str) {
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    let child = tf.resource("vmax_iscsi_export.e")["storage_group"]
        .as_str()
        .unwrap()
        .to_string();
    // the export deleted the default group it emptied: someone moving the
    // volume back by hand makes it first
    let home = support::group_with_workload("Diamond");
    if sim
        .rest("GET", &format!("{sp}/storagegroup/{home}"), None)
        .0
        == 404
    {
        let (s, b) = sim.rest("POST", &format!("{sp}/storagegroup"), Some(json!({
            "srpId": "SRP_1", "storageGroupId": home, "emulation": "FBA", "create_empty_storage_group": "true",
            "sloBasedStorageGroupParam": [{"sloId": "Diamond", "workloadSelection": support::workload(), "num_of_vols": 0,
                "volumeAttribute": {"volume_size": "0", "capacityUnit": "GB"}}]})));
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = sim.rest("PUT", &format!("{sp}/storagegroup/{child}"), Some(json!({"editStorageGroupActionParam": {
        "moveVolumeToStorageGroupParam": {"volumeId": [dev], "storageGroupId": home, "force": "true"}}})));
    assert_eq!(s, 200, "{b}");
    export_is_recreated(tf);
}

fn info(tf: &Tf, addr: &str) -> Value {
    serde_json::from_str(tf.resource(addr)["connection_info"].as_str().unwrap()).unwrap()
}

#[test]
fn one_volume_to_one_host_single_path_and_multipath() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = |mp: bool| {
        format!(
            "{}{}{}",
            sim.provider_block(),
            vol("a", "v1"),
            export(
                "e",
                "a",
                "compute-1.example.com",
                IQN1,
                &format!("  multipath = {mp}\n")
            )
        )
    };
    tf.write(&cfg(false));
    tf.apply();
    let e = tf.resource("vmax_iscsi_export.e");
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(e["masking_view"], "OS-compute-1-I-OS-iscsi-PG-MV");
    assert_eq!(e["initiator_group"], "OS-compute-1-I-IG");
    assert_eq!(
        e["storage_group"],
        format!(
            "OS-compute-1-SRP_1-Diamond{}-OS-iscsi-PG",
            support::workload().unwrap_or("")
        )
    );
    assert_eq!(e["port_group"], "OS-iscsi-PG");
    assert_eq!(e["host_lun_id"], 1);
    assert_eq!(e["target_portals"], json!(support::portals()));
    let i = info(&tf, "vmax_iscsi_export.e");
    assert_eq!(
        i,
        json!({"driver_volume_type": "iscsi", "data": {
        "target_discovered": true,
        "target_iqn": support::target_iqns()[0],
        "target_portal": support::portals()[0], "target_lun": 1, "volume_id": dev}})
    );
    // the volume left its default group for the host's child group
    let a = sim.array();
    assert!(
        a["storage_groups"][support::group_with_workload("Diamond").as_str()]["volumes"]
            .as_array()
            .is_none_or(|v| v.is_empty())
    );
    assert_eq!(
        a["masking_views"]["OS-compute-1-I-OS-iscsi-PG-MV"]["storage_group"],
        "OS-compute-1-I-OS-iscsi-PG-SG"
    );
    tf.assert_empty_plan();

    // multipath updates in place and lists every portal
    tf.write(&cfg(true));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("update in-place"), "{plan}");
    tf.apply();
    let i = info(&tf, "vmax_iscsi_export.e");
    assert_eq!(i["data"]["target_iqns"], json!(support::target_iqns()));
    assert_eq!(i["data"]["target_portals"], json!(support::portals()));
    assert_eq!(i["data"]["target_luns"], json!([1, 1]));
    tf.assert_empty_plan();

    // CHAP: secret only in the sensitive connection_info
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "v1"),
        export(
            "e",
            "a",
            "compute-1.example.com",
            IQN1,
            "  chap {\n    username = \"chapuser\"\n    secret = \"chap-s3cret-value\"\n  }\n"
        )
    ));
    let out = tf.apply();
    assert!(
        !out.contains("chap-s3cret-value"),
        "secret shown in apply output"
    );
    assert!(
        out.contains("secret is deprecated"),
        "no deprecation warning for chap.secret:\n{out}"
    );
    // connection_info in state carries the CHAP method and user, never the secret
    let i = info(&tf, "vmax_iscsi_export.e");
    assert_eq!(
        (
            i["data"]["auth_method"].as_str(),
            i["data"]["auth_username"].as_str(),
            i["data"].get("auth_password")
        ),
        (Some("CHAP"), Some("chapuser"), None)
    );

    tf.destroy();
    sim.assert_clean();
}

#[test]
fn three_volumes_to_one_host_then_two_hosts() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let base = format!(
        "{}{}{}{}",
        sim.provider_block(),
        vol("a", "a"),
        vol("b", "b"),
        vol("c", "c")
    );
    let three = format!(
        "{}{}{}",
        export("ea", "a", "h1", IQN1, ""),
        export("eb", "b", "h1", IQN1, ""),
        export("ec", "c", "h1", IQN1, "")
    );
    tf.write(&format!("{base}{three}"));
    tf.apply();
    let luns: Vec<i64> = ["ea", "eb", "ec"]
        .iter()
        .map(|r| {
            tf.resource(&format!("vmax_iscsi_export.{r}"))["host_lun_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let mut sorted = luns.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, vec![1, 2, 3], "distinct LUNs: {luns:?}");
    assert_eq!(sim.array()["masking_views"].as_object().unwrap().len(), 1);
    tf.assert_empty_plan();

    // volume a to a second host too
    let second = export("ea2", "a", "h2", IQN2, "");
    tf.write(&format!("{base}{three}{second}"));
    tf.apply();
    let a_id = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e2 = tf.resource("vmax_iscsi_export.ea2");
    assert_eq!(e2["masking_view"], "OS-h2-I-OS-iscsi-PG-MV");
    assert_eq!(e2["host_lun_id"], 1);
    assert_eq!(sim.array()["masking_views"].as_object().unwrap().len(), 2);
    tf.assert_empty_plan();

    // removing host 1's export of a leaves host 2's and the others intact
    let lun_b = tf.resource("vmax_iscsi_export.eb")["host_lun_id"].clone();
    tf.write(&format!(
        "{base}{}{}{second}",
        export("eb", "b", "h1", IQN1, ""),
        export("ec", "c", "h1", IQN1, "")
    ));
    tf.apply();
    let a = sim.array();
    assert!(
        a["hosts"]["OS-h1-I-IG"]["luns"].get(&a_id).is_none(),
        "h1 must no longer see {a_id}"
    );
    assert_eq!(
        a["hosts"]["OS-h2-I-IG"]["luns"][&a_id], 1,
        "h2 keeps its access"
    );
    assert_eq!(
        tf.resource("vmax_iscsi_export.eb")["host_lun_id"],
        lun_b,
        "other LUNs unchanged"
    );
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn missing_port_group_is_refused_and_nothing_is_left() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "v"),
        export("e", "a", "h1", IQN1, "  port_group = \"no-such-PG\"\n")
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        out.contains("port group no-such-PG does not exist"),
        "{out}"
    );
    let a = sim.array();
    assert!(a["hosts"].as_object().unwrap().is_empty());
    assert!(a["masking_views"].as_object().unwrap().is_empty());
    assert_eq!(
        a["storage_groups"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec![&support::group_with_workload("Diamond")]
    );
    // bad initiator: refused at validate
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "v"),
        export("e", "a", "h1", "10000090fa1b2c3d", "")
    ));
    let out = tf.fails(&["validate", "-no-color"]);
    assert!(out.contains("not an iSCSI name"), "{out}");
}

#[test]
fn failed_view_creation_rolls_back() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!("{}{}", sim.provider_block(), vol("a", "v")));
    tf.apply();
    sim.set_faults(json!({"rules": [{"method": "POST", "path_contains": "/maskingview", "fail_job": true, "message": "simulated view failure"}]}));
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "v"),
        export("e", "a", "h1", IQN1, "")
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(out.contains("simulated view failure"), "{out}");
    let a = sim.array();
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        a["storage_groups"][support::group_with_workload("Diamond").as_str()]["volumes"],
        json!([dev]),
        "volume back in its default group"
    );
    assert_eq!(
        a["storage_groups"].as_object().unwrap().len(),
        1,
        "{}",
        a["storage_groups"]
    );
    assert!(a["hosts"].as_object().unwrap().is_empty());
    sim.set_faults(json!({}));
    tf.apply();
    tf.assert_empty_plan();
    recreated_after_leaving_the_view(&sim, &tf, &dev);
}

#[test]
fn import_and_drift() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "v"),
        export("e", "a", "h1", IQN1, "")
    );
    tf.write(&cfg);
    tf.apply();
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.ok(&["state", "rm", "vmax_iscsi_export.e"]);
    tf.ok(&[
        "import",
        "-no-color",
        "vmax_iscsi_export.e",
        &format!("{dev}:h1"),
    ]);
    let e = tf.resource("vmax_iscsi_export.e");
    assert_eq!(e["initiator"], IQN1);
    assert_eq!(e["port_group"], "OS-iscsi-PG");
    tf.assert_empty_plan();
    // the view deleted on the array: the next plan re-creates the export
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    assert_eq!(
        sim.rest(
            "DELETE",
            &format!("{sp}/maskingview/OS-h1-I-OS-iscsi-PG-MV"),
            None
        )
        .0,
        204
    );
    export_is_recreated(&tf);
    recreated_after_leaving_the_view(&sim, &tf, &dev);
}

#[test]
fn retype_of_an_exported_volume_never_leaves_the_view() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = |slo: &str| {
        format!(
            "{}resource \"vmax_volume\" \"a\" {{\n  name = \"v\"\n  size_gb = 1\n  service_level = \"{slo}\"\n}}\n{}{}",
            sim.provider_block(),
            export("e", "a", "h1", IQN1, ""),
            export("e2", "a", "h2", IQN2, "")
        )
    };
    tf.write(&cfg("Diamond"));
    tf.apply();
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lun = tf.resource("vmax_iscsi_export.e")["host_lun_id"].clone();
    let log_len = sim.hook_get("/sim/requests").as_array().unwrap().len();

    tf.write(&cfg("Gold"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        plan.contains("update in-place") && !plan.contains("must be replaced"),
        "{plan}"
    );
    tf.apply();
    assert_eq!(
        tf.resource("vmax_volume.a")["id"],
        dev.as_str(),
        "same device"
    );
    assert_eq!(tf.resource("vmax_volume.a")["service_level"], "Gold");
    // the volume moved between host 1's child groups in one step
    let log: Vec<Value> = sim.hook_get("/sim/requests").as_array().unwrap()[log_len..].to_vec();
    let changes: Vec<&Value> = log.iter().filter(|r| r["method"] != "GET").collect();
    assert!(
        changes.iter().any(|r| r["body"]
            .as_str()
            .unwrap()
            .contains("moveVolumeToStorageGroupParam")),
        "{changes:?}"
    );
    assert!(
        !changes
            .iter()
            .any(|r| r["body"].as_str().unwrap().contains("removeVolumeParam")),
        "the volume was removed from a group: {changes:?}"
    );
    let a = sim.array();
    assert_eq!(
        a["hosts"]["OS-h1-I-IG"]["luns"][&dev], lun,
        "host 1 keeps its LUN"
    );
    assert!(
        a["hosts"]["OS-h2-I-IG"]["luns"].get(&dev).is_some(),
        "host 2 keeps access"
    );
    // whichever host got the volume first holds it in its policy child group
    let groups = sim
        .rest(
            "GET",
            &format!(
                "/100/sloprovisioning/symmetrix/{}/volume/{dev}",
                support::ARRAY
            ),
            None,
        )
        .1["storageGroupId"]
        .clone();
    let gold: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g.as_str())
        .filter(|g| g.ends_with("-SRP_1-Gold-OS-iscsi-PG"))
        .collect();
    assert_eq!(gold.len(), 1, "{groups}");
    assert!(
        !a["storage_groups"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("Diamond")),
        "old child removed: {}",
        a["storage_groups"]
    );
    tf.assert_empty_plan();
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let export_groups: Vec<Value> = ["e", "e2"]
        .iter()
        .map(|r| tf.resource(&format!("vmax_iscsi_export.{r}"))["storage_group"].clone())
        .collect();
    assert!(export_groups.contains(&json!(gold[0])), "{export_groups:?}");
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn deleting_a_still_attached_volume_takes_its_export_objects_along() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        vol("a", "attached"),
        export("e", "a", "h1", IQN1, "")
    ));
    tf.apply();
    // the export leaves Terraform's care; the volume is destroyed while attached
    tf.ok(&["state", "rm", "vmax_iscsi_export.e"]);
    tf.write(&format!("{}{}", sim.provider_block(), vol("a", "attached")));
    tf.destroy();
    sim.assert_clean();

    // a view someone else made: refused with a clear message, nothing removed
    tf.apply();
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    for (m, path, body) in [
        (
            "POST",
            format!("{sp}/storagegroup"),
            json!({"srpId": "None", "storageGroupId": "their_sg"}),
        ),
        (
            "PUT",
            format!("{sp}/storagegroup/their_sg"),
            json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addSpecificVolumeParam": {"volumeId": [dev]}}}}),
        ),
        (
            "POST",
            format!("{sp}/host"),
            json!({"hostId": "their_host", "initiatorId": ["iqn.1993-08.org.debian:01:theirs"]}),
        ),
        (
            "POST",
            format!("{sp}/maskingview"),
            json!({"maskingViewId": "their_mv",
            "portGroupSelection": {"useExistingPortGroupParam": {"portGroupId": "OS-iscsi-PG"}},
            "hostOrHostGroupSelection": {"useExistingHostParam": {"hostId": "their_host"}},
            "storageGroupSelection": {"useExistingStorageGroupParam": {"storageGroupId": "their_sg"}}}),
        ),
    ] {
        let (s, b) = sim.rest(m, &path, Some(body));
        assert!(s < 300, "{path}: {b}");
    }
    let out = tf.fails(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        out.contains("their_mv") && out.contains("did not make"),
        "{out}"
    );
    assert!(sim.array()["masking_views"].get("their_mv").is_some());
}

#[test]
fn chap_secret_is_write_only_and_reaches_only_the_ephemeral_connection() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let secret = "wo-s3cret-value-4711";
    let cfg = |version: u32| {
        format!(
            "{}variable \"chap_secret\" {{\n  type      = string\n  sensitive = true\n  ephemeral = true\n  default   = \"{secret}\"\n}}\n{}{}\
ephemeral \"vmax_iscsi_connection\" \"c\" {{\n  volume_id     = split(\":\", vmax_iscsi_export.e.id)[0]\n  host          = vmax_iscsi_export.e.host\n  chap_username = \"chapuser\"\n  chap_secret   = var.chap_secret\n}}\n\
resource \"terraform_data\" \"probe\" {{\n  input = vmax_iscsi_export.e.id\n  provisioner \"local-exec\" {{\n    command     = \"printf '%s' \\\"$INFO\\\" > conn.json\"\n    environment = {{ INFO = ephemeral.vmax_iscsi_connection.c.connection_info }}\n  }}\n}}\n",
            sim.provider_block(),
            vol("a", "v1"),
            export(
                "e",
                "a",
                "web1",
                IQN1,
                &format!(
                    "  chap {{\n    username          = \"chapuser\"\n    secret_wo         = var.chap_secret\n    secret_wo_version = {version}\n  }}\n"
                )
            )
        )
    };
    tf.write(&cfg(1));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(!plan.contains(secret), "secret in the plan:\n{plan}");
    let out = tf.apply();
    assert!(!out.contains(secret), "secret in the apply output");
    let state = std::fs::read_to_string(tf.dir.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains(secret), "secret in terraform.tfstate");
    assert!(state.contains("chapuser"));
    let show = tf.ok(&["show", "-json"]);
    assert!(!show.contains(secret), "secret in show -json");
    let e = tf.resource("vmax_iscsi_export.e");
    assert!(e["chap"][0]["secret_wo"].is_null(), "{e}");
    assert_eq!(e["chap"][0]["secret_wo_version"], 1);
    // the ephemeral connection has it, for the provisioner only
    let conn: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tf.dir.path().join("conn.json"))
            .expect("conn.json written by the provisioner"),
    )
    .unwrap();
    assert_eq!(conn["data"]["auth_password"], secret);
    assert_eq!(conn["data"]["auth_username"], "chapuser");
    assert_eq!(conn["data"]["target_lun"], e["host_lun_id"]);
    tf.assert_empty_plan();
    // a new version is an in-place change, still without the secret
    tf.write(&cfg(2));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("update in-place") && !plan.contains(secret),
        "{plan}"
    );
    tf.apply();
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}
