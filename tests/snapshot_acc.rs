//! Acceptance tests for SnapVX: `vmax_snapshot`, volumes from snapshots,
//! clones.

mod support;
use serde_json::json;
use support::{Sim, Tf};

const SRC: &str = "resource \"vmax_volume\" \"src\" {\n  name = \"src\"\n  size_gb = 4\n  service_level = \"Gold\"\n}\n";
const SNAP: &str = "resource \"vmax_snapshot\" \"s\" {\n  volume_id = vmax_volume.src.id\n  name = \"nightly\"\n}\n";

fn from_snap(size: i64, wait: bool) -> String {
    format!(
        "resource \"vmax_volume\" \"copy\" {{\n  name = \"copy\"\n  size_gb = {size}\n  service_level = \"Gold\"\n  wait_for_copy = {wait}\n  source {{\n    snapshot_id = vmax_snapshot.s.id\n  }}\n}}\n"
    )
}

const CLONE: &str = "resource \"vmax_volume\" \"clone\" {\n  name = \"clone\"\n  size_gb = 4\n  service_level = \"Gold\"\n  source {\n    volume_id = vmax_volume.src.id\n  }\n}\n";

fn snapshots(sim: &Sim) -> Vec<serde_json::Value> {
    sim.array()["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn snapshot_copy_clone_and_clean_destroy() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{SRC}{SNAP}{}{CLONE}",
        sim.provider_block(),
        from_snap(8, false)
    ));
    tf.apply();
    let src = tf.resource("vmax_volume.src")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = tf.resource("vmax_snapshot.s");
    assert_eq!(s["id"], format!("{src}:nightly"));
    assert_eq!(s["generation"], 0);
    assert_eq!(s["state"], "Established");
    let copy = tf.resource("vmax_volume.copy");
    assert_eq!(copy["size_gb"], 8);
    let copy_id = copy["id"].as_str().unwrap().to_string();
    let clone_id = tf.resource("vmax_volume.clone")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // the copy is linked to the snapshot; the clone to a temporary snapshot
    let snaps = snapshots(&sim);
    let nightly = snaps.iter().find(|x| x["name"] == "nightly").unwrap();
    assert_eq!(nightly["links"][0]["target"], copy_id);
    let temp = snaps
        .iter()
        .find(|x| x["name"].as_str().unwrap().starts_with("temp-"))
        .unwrap();
    assert!(
        temp["name"]
            .as_str()
            .unwrap()
            .starts_with(&format!("temp-{src}-clone-")),
        "{temp}"
    );
    assert_eq!(temp["links"][0]["target"], clone_id);
    // the snapshot's read shows the linked volume
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(
        tf.resource("vmax_snapshot.s")["linked_volume_ids"],
        json!([copy_id])
    );
    tf.assert_empty_plan();

    tf.destroy();
    let a = sim.array();
    assert!(
        a["volumes"].as_object().unwrap().is_empty(),
        "{}",
        a["volumes"]
    );
    assert!(a["storage_groups"].as_object().unwrap().is_empty());
    assert!(snapshots(&sim).is_empty(), "{:?}", snapshots(&sim));
}

#[test]
fn snapshot_deleted_while_a_volume_is_linked_and_wait_for_copy() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{SRC}{SNAP}{}",
        sim.provider_block(),
        from_snap(4, false)
    ));
    tf.apply();
    let copy_id = tf.resource("vmax_volume.copy")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // the snapshot goes; the copy stays, unlinked once its copy was defined
    tf.ok(&["state", "rm", "vmax_volume.copy"]);
    tf.write(&format!("{}{SRC}", sim.provider_block()));
    tf.apply();
    assert!(snapshots(&sim).is_empty());
    assert!(
        sim.volumes().iter().any(|(d, _)| *d == copy_id),
        "the linked volume survives"
    );

    // wait_for_copy: the new volume ends up unlinked and complete
    let tf2 = Tf::new();
    // other names: the first source volume still exists on this array
    let cfg2 = format!("{}{SRC}{SNAP}{}", sim.provider_block(), from_snap(4, true))
        .replace("name = \"src\"", "name = \"src2\"")
        .replace("name = \"copy\"", "name = \"copy2\"");
    tf2.write(&cfg2);
    tf2.apply();
    let s = tf2.resource("vmax_snapshot.s");
    assert_eq!(s["linked_volume_ids"], json!([]));
    tf2.assert_empty_plan();
}

#[test]
fn failed_link_leaves_nothing_behind_and_small_copies_are_refused() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!("{}{SRC}", sim.provider_block()));
    tf.apply();
    let before = sim.volumes().len();
    sim.set_faults(json!({"rules": [{"method": "PUT", "path_contains": "/snapshot/", "body_contains": "\"Link\"", "fail_job": true, "message": "simulated link failure"}]}));
    tf.write(&format!("{}{SRC}{CLONE}", sim.provider_block()));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(out.contains("simulated link failure"), "{out}");
    assert_eq!(
        sim.volumes().len(),
        before,
        "no clone target left: {:?}",
        sim.volumes()
    );
    assert!(
        snapshots(&sim).is_empty(),
        "no temporary snapshot left: {:?}",
        snapshots(&sim)
    );
    sim.set_faults(json!({}));

    // smaller than the source: refused at plan time
    tf.write(&format!(
        "{}{SRC}{}",
        sim.provider_block(),
        CLONE.replace("size_gb = 4", "size_gb = 2")
    ));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(out.contains("smaller than the source volume"), "{out}");
    // exactly one source
    tf.write(&format!(
        "{}{SRC}{}",
        sim.provider_block(),
        CLONE.replace("volume_id = vmax_volume.src.id", "")
    ));
    let out = tf.fails(&["validate", "-no-color"]);
    assert!(out.contains("Set exactly one source"), "{out}");
}

#[test]
fn snapshot_import_and_vanished_snapshot() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!("{}{SRC}{SNAP}", sim.provider_block()));
    tf.apply();
    let id = tf.resource("vmax_snapshot.s")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.ok(&["state", "rm", "vmax_snapshot.s"]);
    tf.ok(&["import", "-no-color", "vmax_snapshot.s", &id]);
    assert_eq!(tf.resource("vmax_snapshot.s")["name"], "nightly");
    tf.assert_empty_plan();
    // terminated outside Terraform: re-created on the next apply
    let src = id.split(':').next().unwrap();
    let (s, _) = sim.rest(
        "DELETE",
        &format!(
            "/private/100/replication/symmetrix/{}/snapshot/nightly",
            support::ARRAY
        ),
        Some(json!({"deviceNameListSource": [{"name": src}], "generation": 0})),
    );
    assert_eq!(s, 204);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    tf.apply();
    tf.assert_empty_plan();
    let tf2 = Tf::new();
    tf2.write(
        &format!("{}{SNAP}", sim.provider_block())
            .replace("vmax_volume.src.id", &format!("\"{src}\"")),
    );
    let out = tf2.fails(&[
        "import",
        "-no-color",
        "vmax_snapshot.s",
        &format!("{src}:nope"),
    ]);
    assert!(out.contains("has no snapshot named nope"), "{out}");
}

#[test]
fn extending_a_snapshot_source_is_refused_where_the_array_refuses() {
    if !support::acc() {
        return;
    }
    // the default array runs 5977 microcode, which cannot grow a SnapVX
    // source; PowerMax (5978 and later) can
    let sim = Sim::start();
    let ucode = sim.array()["ucode"].as_str().unwrap_or("").to_string();
    let tf = Tf::new();
    tf.write(&format!("{}{SRC}{SNAP}", sim.provider_block()));
    tf.apply();
    tf.write(&format!(
        "{}{}{SNAP}",
        sim.provider_block(),
        SRC.replace("size_gb = 4", "size_gb = 6")
    ));
    if !ucode.starts_with("5977") {
        tf.apply();
        assert_eq!(tf.resource("vmax_volume.src")["size_gb"], 6);
        assert_eq!(tf.resource("vmax_snapshot.s")["name"], "nightly");
        tf.assert_empty_plan();
        return;
    }
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("SnapVX snapshot source") && out.contains("5977"),
        "{out}"
    );
    assert!(out.contains("size_gb"), "{out}");
    assert_eq!(
        tf.resource("vmax_volume.src")["size_gb"],
        4,
        "state stays true"
    );
}
