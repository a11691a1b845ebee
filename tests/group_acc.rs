//! `vmax_volume_group` and `vmax_volume_group_snapshot` through the real
//! `terraform`: a group of volumes of different service levels, one
//! consistent snapshot of it, a copy of every member from it, membership
//! changes in place, imports, and one destroy for everything.

mod support;
use serde_json::Value;
use support::{Sim, Tf};

const VOLUMES: &str = r#"
resource "vmax_volume" "a" {
  name          = "grp-a"
  size_gb       = 1
  service_level = "Diamond"
}
resource "vmax_volume" "b" {
  name          = "grp-b"
  size_gb       = 2
  service_level = "Gold"
}
resource "vmax_volume" "c" {
  name          = "grp-c"
  size_gb       = 1
  service_level = "None"
}
resource "vmax_iscsi_export" "e" {
  volume_id = vmax_volume.a.id
  host      = "grp-host"
  initiator = "iqn.1993-08.org.debian:01:grp"
}
"#;

fn group(members: &str) -> String {
    format!(
        "resource \"vmax_volume_group\" \"g\" {{\n  name = \"grp\"\n  volume_ids = [{members}]\n}}\n"
    )
}

const SNAP: &str = "resource \"vmax_volume_group_snapshot\" \"s\" {\n  group_id = vmax_volume_group.g.id\n  name = \"gs\"\n}\n";

const COPIES: &str = r#"
resource "vmax_volume" "copy" {
  for_each = vmax_volume_group_snapshot.s.snapshot_ids
  name     = "grp-copy-${each.key}"
  size_gb  = 2
  source {
    snapshot_id = each.value
  }
}
"#;

fn snaps(sim: &Sim) -> Vec<Value> {
    sim.array()["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_group_its_snapshot_copies_imports_and_one_destroy() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let all = "vmax_volume.a.id, vmax_volume.b.id, vmax_volume.c.id";
    tf.write(&format!(
        "{}{VOLUMES}{}{SNAP}",
        sim.provider_block(),
        group(all)
    ));
    tf.apply();
    tf.assert_empty_plan();
    let mut devs: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|r| {
            tf.resource(&format!("vmax_volume.{r}"))["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    devs.sort();
    // the group is a storage group without a service level, beside the policy groups
    let sg = &sim.array()["storage_groups"]["OS-grp-VG"];
    assert!(sg["slo"].is_null(), "{sg}");
    let mut members: Vec<String> = serde_json::from_value(sg["volumes"].clone()).unwrap();
    members.sort();
    assert_eq!(members, devs);
    assert_eq!(
        tf.resource("vmax_volume.b")["storage_group"],
        "OS-SRP_1-Gold-SG"
    );
    // one snapshot per member, all taken at one instant
    let s = snaps(&sim);
    assert_eq!(s.len(), 3);
    assert!(
        s.iter()
            .all(|x| x["name"] == "gs" && x["created_ms"] == s[0]["created_ms"]),
        "{s:?}"
    );
    let ids = tf.resource("vmax_volume_group_snapshot.s")["snapshot_ids"].clone();
    for d in &devs {
        assert_eq!(ids[d.as_str()], format!("{d}:gs"));
    }

    // a copy of every member from the group snapshot
    tf.write(&format!(
        "{}{VOLUMES}{}{SNAP}{COPIES}",
        sim.provider_block(),
        group(all)
    ));
    tf.apply();
    tf.assert_empty_plan();
    for d in &devs {
        let copy = tf.resource(&format!("vmax_volume.copy[\"{d}\"]"));
        let cid = copy["id"].as_str().unwrap();
        let linked = snaps(&sim)
            .into_iter()
            .find(|x| x["source"] == d.as_str() && x["name"] == "gs")
            .unwrap();
        assert!(
            linked["links"].to_string().contains(cid),
            "{d}'s snapshot links its copy: {linked}"
        );
    }

    // imports of both (the copies' for_each needs the snapshot in state,
    // so they leave the configuration while it is imported)
    tf.ok(&[
        "state",
        "rm",
        "vmax_volume_group.g",
        "vmax_volume_group_snapshot.s",
    ]);
    tf.write(&format!(
        "{}{VOLUMES}{}{SNAP}",
        sim.provider_block(),
        group(all)
    ));
    tf.ok(&["import", "-no-color", "vmax_volume_group.g", "grp"]);
    tf.ok(&[
        "import",
        "-no-color",
        "vmax_volume_group_snapshot.s",
        "grp:gs",
    ]);
    tf.write(&format!(
        "{}{VOLUMES}{}{SNAP}{COPIES}",
        sim.provider_block(),
        group(all)
    ));
    tf.assert_empty_plan();

    // membership changes in place; the snapshot keeps the members it had
    let two = "vmax_volume.a.id, vmax_volume.b.id";
    tf.write(&format!(
        "{}{VOLUMES}{}{SNAP}{COPIES}",
        sim.provider_block(),
        group(two)
    ));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("update in-place") && !plan.contains("must be replaced"),
        "{plan}"
    );
    tf.apply();
    tf.assert_empty_plan();
    assert_eq!(
        sim.array()["storage_groups"]["OS-grp-VG"]["volumes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        tf.resource("vmax_volume_group_snapshot.s")["snapshot_ids"]
            .as_object()
            .unwrap()
            .len(),
        3
    );

    // one destroy removes everything in the right order
    tf.destroy();
    sim.assert_clean();
    assert!(snaps(&sim).is_empty(), "{:?}", snaps(&sim));
}

#[test]
fn a_taken_group_name_and_a_taken_snapshot_name_are_refused() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let (s, b) = sim.rest(
        "POST",
        &format!("/100/sloprovisioning/symmetrix/{}/storagegroup", support::ARRAY),
        Some(serde_json::json!({"srpId": "None", "storageGroupId": "OS-grp-VG", "emulation": "FBA", "create_empty_storage_group": "true"})),
    );
    assert_eq!(s, 201, "{b}");
    let tf = Tf::new();
    tf.write(&format!(
        "{}{VOLUMES}{}",
        sim.provider_block(),
        group("vmax_volume.a.id")
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.contains("OS-grp-VG exists already"), "{out}");
    assert!(
        out.contains("terraform import vmax_volume_group.<name> grp"),
        "{out}"
    );
    tf.destroy();
    let sgs = sim.storage_groups();
    assert!(
        sgs.contains(&"OS-grp-VG".to_string()),
        "the foreign group stays: {sgs:?}"
    );
}
