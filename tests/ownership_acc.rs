//! Ownership: a workspace never takes over, changes or deletes what it did
//! not make. Each refusal happens before any change (the array's objects
//! are compared before and after), says what to do, and the refusing
//! workspace's destroy touches nothing of the foreign objects.

mod support;
use serde_json::json;
use support::{ARRAY, Sim, Tf};

const IQN_A: &str = "iqn.1993-08.org.debian:01:web1a";
const IQN_B: &str = "iqn.1993-08.org.debian:01:web1b";

fn volume(res: &str, name: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name = \"{name}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n}}\n"
    )
}

/// Applies, expecting a refusal that mentions each of `says`; the array is
/// unchanged; destroy of the refusing workspace leaves it unchanged too.
fn refused_without_change(sim: &Sim, tf: &Tf, says: &[&str]) {
    let before = sim.objects();
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    for s in says {
        assert!(out.contains(s), "expected {s:?} in:\n{out}");
    }
    assert_eq!(sim.objects(), before, "a refused apply changed the array");
    tf.destroy();
    assert_eq!(sim.objects(), before, "destroy touched foreign objects");
}

#[test]
fn a_foreign_volume_in_a_foreign_group_is_refused() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let dev = sim.make_foreign_volume("their-sg", "Diamond", 3, "OS-db01");
    let tf = Tf::new();
    tf.write(&format!("{}{}", sim.provider_block(), volume("db", "db01")));
    refused_without_change(
        &sim,
        &tf,
        &[
            "already exists",
            &dev,
            &format!("terraform import vmax_volume.<name> {dev}"),
            "interrupted earlier apply",
        ],
    );
}

#[test]
fn a_foreign_volume_in_our_default_group_is_refused() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let dev = sim.make_foreign_volume("OS-SRP_1-Diamond-SG", "Diamond", 1, "OS-db01");
    let tf = Tf::new();
    tf.write(&format!("{}{}", sim.provider_block(), volume("db", "db01")));
    refused_without_change(&sim, &tf, &["already exists", &dev]);
    // a create of another name into the same group works and leaves the
    // foreign volume alone when it is destroyed
    tf.write(&format!("{}{}", sim.provider_block(), volume("db", "db02")));
    tf.apply();
    tf.assert_empty_plan();
    tf.destroy();
    let vols = sim.volumes();
    assert_eq!(vols, vec![(dev.clone(), "OS-db01".to_string())]);
    let sg = &sim.array()["storage_groups"]["OS-SRP_1-Diamond-SG"];
    assert!(sg.is_object(), "the foreign volume's group stays");
}

#[test]
fn another_workspaces_exported_volume_is_untouched() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let a = Tf::new();
    a.write(&format!(
        "{}{}resource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.db.id\n  host = \"h1\"\n  initiator = \"{IQN_A}\"\n}}\n",
        sim.provider_block(),
        volume("db", "db01")
    ));
    a.apply();
    let dev = a.resource("vmax_volume.db")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Tf::new();
    b.write(&format!("{}{}", sim.provider_block(), volume("db", "db01")));
    refused_without_change(&sim, &b, &["already exists", &dev]);
    // the first workspace still sees everything as it left it
    a.assert_empty_plan();
    a.destroy();
    sim.assert_clean();
}

#[test]
fn a_rename_onto_a_taken_name_is_refused() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("x", "x"),
        volume("y", "y")
    ));
    tf.apply();
    let before = sim.objects();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("x", "x"),
        volume("y", "x")
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.contains("already carries that identifier"), "{out}");
    assert_eq!(sim.objects(), before);
    // the state still says y, so the rename is still pending
    assert_eq!(tf.resource("vmax_volume.y")["name"], "y");
    let mut ids: Vec<String> = sim.volumes().into_iter().map(|(_, i)| i).collect();
    ids.sort();
    assert_eq!(ids, vec!["OS-x", "OS-y"]);
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn snapshot_names_are_owned() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let base = format!("{}{}", sim.provider_block(), volume("v", "snapsrc"));
    tf.write(&base);
    tf.apply();
    let dev = tf.resource("vmax_volume.v")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // a snapshot another tool took, with the name the configuration wants
    let (s, b) = sim.rest(
        "POST",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/nightly"),
        Some(json!({"deviceNameListSource": [{"name": dev}]})),
    );
    assert!(s < 300, "{b}");
    let snap = |res: &str| {
        format!(
            "resource \"vmax_snapshot\" \"{res}\" {{\n  volume_id = vmax_volume.v.id\n  name = \"nightly\"\n}}\n"
        )
    };
    tf.write(&format!("{base}{}", snap("s")));
    let before = sim.objects();
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(
        out.contains("already has a SnapVX snapshot named nightly"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "terraform import vmax_snapshot.<name> {dev}:nightly"
        )),
        "{out}"
    );
    assert_eq!(sim.objects(), before);
    // the foreign snapshot goes away out of band; two resources then ask
    // for one name: one gets it, the other is refused
    let (s, b) = sim.rest(
        "DELETE",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/nightly"),
        Some(json!({"deviceNameListSource": [{"name": dev}], "generation": 0})),
    );
    assert!(s < 300, "{b}");
    tf.write(&format!("{base}{}{}", snap("s"), snap("t")));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(
        out.contains("already has a SnapVX snapshot named nightly"),
        "{out}"
    );
    let snaps = sim.array()["snapshots"].as_array().unwrap().len();
    assert_eq!(snaps, 1, "one snapshot, not two generations");
    // removing the refused resource from the configuration leaves the other's snapshot alone
    tf.write(&format!("{base}{}", snap("s")));
    tf.apply();
    tf.assert_empty_plan();
    assert_eq!(sim.array()["snapshots"].as_array().unwrap().len(), 1);
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn hosts_whose_short_names_collide_are_refused_not_left_without_access() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let a = Tf::new();
    let export = |res: &str, vol: &str, host: &str, iqn: &str| {
        format!(
            "resource \"vmax_iscsi_export\" \"{res}\" {{\n  volume_id = vmax_volume.{vol}.id\n  host = \"{host}\"\n  initiator = \"{iqn}\"\n}}\n"
        )
    };
    a.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("v", "va"),
        export("e", "v", "web1.a.example", IQN_A)
    ));
    a.apply();
    let b = Tf::new();
    b.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("v", "vb"),
        export("e", "v", "web1.b.example", IQN_B)
    ));
    let out = b.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(
        out.contains("OS-web1-I-IG already exists for other initiators"),
        "{out}"
    );
    assert!(out.contains("first label"), "{out}");
    // the refused export left nothing: the host of a still has only its initiator
    let host = &sim.array()["hosts"]["OS-web1-I-IG"];
    assert_eq!(host["initiators"], json!([IQN_A]), "{host}");
    let vb = b.resource("vmax_volume.v");
    assert_eq!(vb["storage_group"], "OS-SRP_1-Diamond-SG");
    // with a distinct host name both hosts get real access
    b.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("v", "vb"),
        export("e", "v", "web1-b.example", IQN_B)
    ));
    b.apply();
    b.assert_empty_plan();
    assert!(b.resource("vmax_iscsi_export.e")["host_lun_id"].is_number());
    a.assert_empty_plan();
    b.destroy();
    a.assert_empty_plan();
    a.destroy();
    sim.assert_clean();
}
