//! Operations finish or undo: a timeout or Terraform's stop (SIGINT) at a
//! step of a create leaves nothing behind; at a step of a removal it leaves
//! the object in state, and the next run finishes the removal. Each step is
//! hit with the simulator's slow-step rules (`delay_ms`), its copy
//! duration and its failed-job rules.

mod support;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Sim, Tf};

const IQN: &str = "iqn.1993-08.org.debian:01:saga";

fn volume(res: &str, name: &str, extra: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name = \"{name}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n{extra}}}\n"
    )
}

fn export(extra: &str) -> String {
    format!(
        "resource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.src.id\n  host = \"h1\"\n  initiator = \"{IQN}\"\n{extra}}}\n"
    )
}

/// A slow step: requests matching `method` and `body` wait `ms`, then run.
fn slow(sim: &Sim, method: &str, body: &str, ms: u64) {
    sim.set_faults(
        json!({"rules": [{"method": method, "body_contains": body, "delay_ms": ms, "pass": true}]}),
    );
}

/// Addresses in the state.
fn in_state(tf: &Tf) -> Vec<String> {
    let s = tf.show();
    let mut out: Vec<String> = s["values"]["root_module"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["address"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A source volume (and a snapshot of it) applied; returns the workspace
/// and the array as it stands.
fn with_source(sim: &Sim, snapshot: bool) -> (Tf, String, Value) {
    let tf = Tf::new();
    let mut hcl = format!("{}{}", sim.provider_block(), volume("src", "src", ""));
    if snapshot {
        hcl.push_str("resource \"vmax_snapshot\" \"s\" {\n  volume_id = vmax_volume.src.id\n  name = \"base\"\n}\n");
    }
    tf.write(&hcl);
    tf.apply();
    (tf, hcl, sim.objects())
}

fn copy(kind: &str, wait: bool, timeout: &str) -> String {
    let source = match kind {
        "clone" => "  source {\n    volume_id = vmax_volume.src.id\n  }\n".to_string(),
        _ => "  source {\n    snapshot_id = vmax_snapshot.s.id\n  }\n".to_string(),
    };
    volume(
        "copy",
        "copy",
        &format!(
            "{source}  wait_for_copy = {wait}\n  timeouts {{\n    create = \"{timeout}\"\n  }}\n"
        ),
    )
}

#[test]
fn copies_that_time_out_while_copying_leave_nothing() {
    if !support::acc() {
        return;
    }
    // a copy takes a minute; the create may take 3 s
    let sim = Sim::start_with(&["--copy-ms", "60000"]);
    for kind in ["clone", "from-snapshot"] {
        let (tf, hcl, before) = with_source(&sim, kind != "clone");
        tf.write(&format!("{hcl}{}", copy(kind, true, "3s")));
        let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        assert!(out.contains("did not finish within 3 s"), "{kind}: {out}");
        assert!(out.contains("undone"), "{kind}: {out}");
        assert_eq!(sim.objects(), before, "{kind}: something was left behind");
        assert!(!in_state(&tf).contains(&"vmax_volume.copy".to_string()));
        tf.write(&hcl);
        tf.destroy();
        sim.assert_clean();
    }
}

#[test]
fn copies_that_time_out_at_each_step_leave_nothing() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    // each step in turn takes 4 s while the create may take 2 s: the
    // deadline passes during that step, and the next step is not taken
    let new_volume = ("PUT", "addVolumeParam");
    let temp_snapshot = ("POST", "deviceNameListSource");
    let link = ("PUT", "\"Link\"");
    for (kind, wait, steps) in [
        ("clone", true, vec![new_volume, temp_snapshot, link]),
        ("clone", false, vec![new_volume, temp_snapshot]),
        ("from-snapshot", true, vec![new_volume, link]),
        ("from-snapshot", false, vec![new_volume]),
    ] {
        for (method, body) in steps {
            let case = format!("{kind} wait={wait} slow {method} {body}");
            let (tf, hcl, before) = with_source(&sim, kind != "clone");
            slow(&sim, method, body, 4000);
            tf.write(&format!("{hcl}{}", copy(kind, wait, "2s")));
            let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
            sim.set_faults(json!({}));
            assert!(out.contains("did not finish within 2 s"), "{case}: {out}");
            assert_eq!(sim.objects(), before, "{case}: something was left behind");
            assert!(
                !in_state(&tf).contains(&"vmax_volume.copy".to_string()),
                "{case}"
            );
            tf.write(&hcl);
            tf.destroy();
            sim.assert_clean();
        }
    }
}

#[test]
fn a_stopped_clone_leaves_nothing() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let (tf, hcl, before) = with_source(&sim, false);
    // Ctrl-C while the temporary snapshot is being taken
    slow(&sim, "POST", "deviceNameListSource", 5000);
    tf.write(&format!("{hcl}{}", copy("clone", false, "10m")));
    let (ok, out) = tf.interrupt(
        &["apply", "-auto-approve", "-no-color", "-input=false"],
        "vmax_volume.copy: Creating...",
        Duration::from_millis(2000),
    );
    sim.set_faults(json!({}));
    assert!(!ok, "{out}");
    assert!(out.contains("Terraform is stopping"), "{out}");
    assert_eq!(sim.objects(), before);
    assert!(!in_state(&tf).contains(&"vmax_volume.copy".to_string()));
    tf.write(&hcl);
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn exports_that_time_out_or_stop_at_each_step_leave_nothing() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let (tf, hcl, before) = with_source(&sim, false);
    let steps = [
        ("POST", "\"hostId\""),                   // the initiator group
        ("POST", "OS-h1-SRP_1"),                  // the policy child group
        ("POST", "OS-h1-I-OS-iscsi-PG-SG"),       // the masking-view parent
        ("PUT", "addExistingStorageGroupParam"),  // nesting the child
        ("PUT", "moveVolumeToStorageGroupParam"), // moving the volume in
    ];
    for (method, body) in steps {
        // a timeout during the step: what it made is removed again
        slow(&sim, method, body, 4000);
        tf.write(&format!(
            "{hcl}{}",
            export("  timeouts {\n    create = \"2s\"\n  }\n")
        ));
        let out = tf.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
        sim.set_faults(json!({}));
        assert!(
            out.contains("did not finish within 2 s"),
            "{method} {body}: {out}"
        );
        assert_eq!(sim.objects(), before, "timeout at {method} {body}");
        // Ctrl-C during the step: the same
        slow(&sim, method, body, 5000);
        tf.write(&format!("{hcl}{}", export("")));
        let (ok, out) = tf.interrupt(
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            "vmax_iscsi_export.e: Creating...",
            Duration::from_millis(2000),
        );
        sim.set_faults(json!({}));
        assert!(!ok, "{out}");
        assert_eq!(sim.objects(), before, "stop at {method} {body}");
        assert_eq!(in_state(&tf), vec!["vmax_volume.src"]);
    }
    tf.apply();
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn export_removals_stopped_at_each_step_finish_next_time() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let hcl = format!(
        "{}{}{}",
        sim.provider_block(),
        volume("src", "src", ""),
        export("")
    );
    // (method, where the step shows: in the path or in the body, and what)
    // (the export deleted the default group it emptied: the child, which
    // holds only this volume, is unnested and becomes the default group)
    let steps = [
        ("PUT", "body_contains", "removeStorageGroupParam"), // unnesting the child
        ("PUT", "body_contains", "renameStorageGroupParam"), // the child becomes the default group
        ("DELETE", "path_contains", "maskingview/"),         // deleting the view
        ("DELETE", "path_contains", "storagegroup/OS-h1-I-"), // deleting the parent
        ("DELETE", "path_contains", "host/"),                // deleting the initiator group
    ];
    for (method, field, path) in steps {
        tf.write(&hcl);
        tf.apply();
        sim.set_faults(
            json!({"rules": [{"method": method, field: path, "delay_ms": 5000, "pass": true}]}),
        );
        tf.write(&format!(
            "{}{}",
            sim.provider_block(),
            volume("src", "src", "")
        ));
        let (ok, out) = tf.interrupt(
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            "vmax_iscsi_export.e: Destroying...",
            Duration::from_millis(2000),
        );
        sim.set_faults(json!({}));
        assert!(!ok, "{out}");
        // the stop either came between two steps (the export stays in
        // state) or after the last one (the removal is complete): never
        // out of state with parts of it left
        let left = in_state(&tf).contains(&"vmax_iscsi_export.e".to_string());
        if path == "removeStorageGroupParam" {
            assert!(
                left,
                "stopped before the clean-up, the export stays in state"
            );
        }
        let a = sim.array();
        if !left {
            assert!(
                a["masking_views"].as_object().is_none_or(|m| m.is_empty()),
                "{method} {path}: out of state, view left"
            );
            assert!(
                a["hosts"].as_object().is_none_or(|m| m.is_empty()),
                "{method} {path}: out of state, host left"
            );
        }
        // the next run finishes the removal
        tf.apply();
        tf.assert_empty_plan();
        let a = sim.array();
        for k in ["hosts", "masking_views"] {
            assert!(
                a[k].as_object().is_none_or(|m| m.is_empty()),
                "{method} {path}: {k} left: {}",
                a[k]
            );
        }
        assert_eq!(
            a["storage_groups"].as_object().map(|m| m.len()),
            Some(1),
            "{method} {path}: {}",
            a["storage_groups"]
        );
    }
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn stopped_removals_stay_in_state_and_finish_next_time() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("src", "src", ""),
        export("")
    ));
    tf.apply();
    // Ctrl-C while the export's volume moves back to its default group
    slow(&sim, "PUT", "moveVolumeToStorageGroupParam", 5000);
    let (ok, out) = tf.interrupt(
        &["destroy", "-auto-approve", "-no-color", "-input=false"],
        "vmax_iscsi_export.e: Destroying...",
        Duration::from_millis(2000),
    );
    sim.set_faults(json!({}));
    assert!(!ok, "{out}");
    assert!(!out.contains("Destroy complete"), "{out}");
    // the view, parent and host are still there, and so is the export in state
    assert!(!sim.array()["masking_views"].as_object().unwrap().is_empty());
    assert!(in_state(&tf).contains(&"vmax_iscsi_export.e".to_string()));
    // a plan shows it must be redone (the host has no access now)
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    // Ctrl-C while the volume leaves its group during a volume delete:
    // the volume goes back to its default group and stays in state
    tf.ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-target=vmax_iscsi_export.e",
    ]);
    slow(&sim, "PUT", "removeVolumeParam", 5000);
    let (ok, out) = tf.interrupt(
        &["destroy", "-auto-approve", "-no-color", "-input=false"],
        "vmax_volume.src: Destroying...",
        Duration::from_millis(2000),
    );
    sim.set_faults(json!({}));
    assert!(!ok, "{out}");
    let vols = sim.volumes();
    assert_eq!(vols.len(), 1);
    let sgs = &sim.array()["storage_groups"];
    assert!(
        sgs["OS-SRP_1-Diamond-SG"]["volumes"]
            .to_string()
            .contains(&vols[0].0),
        "{sgs}"
    );
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("src", "src", "")
    ));
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn an_export_removal_whose_unnest_job_fails_is_finished_by_the_next_destroy() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}{}",
        sim.provider_block(),
        volume("src", "src", ""),
        export("")
    ));
    tf.apply();
    sim.set_faults(json!({"rules": [{"method": "PUT", "body_contains": "removeStorageGroupParam", "fail_job": true, "times": 1, "message": "Simulated unnest failure"}]}));
    let out = tf.fails(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.contains("Simulated unnest failure"), "{out}");
    assert!(in_state(&tf).contains(&"vmax_iscsi_export.e".to_string()));
    tf.destroy();
    sim.assert_clean();
}
