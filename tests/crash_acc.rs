//! Crashes: Terraform or the provider killed (SIGKILL) in the middle of an
//! apply with volumes, snapshots and clones. The next apply takes back
//! what the interrupted one made (its create journal proves it) and
//! finishes: no second volume, no second snapshot generation, no stale
//! temporary snapshot, no manual step. The provider never outlives a
//! killed Terraform.

mod support;
use std::time::{Duration, Instant};
use support::{Sim, Tf};

const APPLY: &[&str] = &["apply", "-auto-approve", "-no-color", "-input=false"];

fn identifiers(sim: &Sim) -> Vec<String> {
    let mut v: Vec<String> = sim.volumes().into_iter().map(|(_, i)| i).collect();
    v.sort();
    v
}

fn snapshot_names(sim: &Sim) -> Vec<String> {
    let mut v: Vec<String> = sim.array()["snapshots"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The provider processes of `tf` are gone within a few seconds.
fn providers_exit(tf: &Tf) {
    let start = Instant::now();
    while !tf.providers().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the provider outlived the killed terraform: {:?}",
            tf.providers()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_volume_create_killed_mid_job_is_taken_back_despite_lookup_lag() {
    if !support::acc() {
        return;
    }
    // jobs take 4 s; lookups by identifier miss new volumes for 20 s
    let sim = Sim::start_with(&["--job-ms", "4000", "--lookup-lag-ms", "20000"]);
    let tf = Tf::new();
    // a first volume makes the group, so the kill lands in the create job
    let warm = "resource \"vmax_volume\" \"w\" {\n  name = \"warm\"\n  size_gb = 1\n}\n";
    tf.write(&format!("{}{warm}", sim.provider_block()));
    tf.apply();
    tf.write(&format!(
        "{}{warm}resource \"vmax_volume\" \"v\" {{\n  name = \"crash1\"\n  size_gb = 1\n}}\n",
        sim.provider_block()
    ));
    tf.kill(
        APPLY,
        "vmax_volume.v: Creating...",
        Duration::from_millis(1500),
        "terraform",
    );
    providers_exit(&tf);
    assert_eq!(
        identifiers(&sim),
        vec!["OS-crash1", "OS-warm"],
        "the interrupted create made it"
    );
    // at once, within the lag: taken back, not made twice
    let out = tf.ok(APPLY);
    assert!(out.contains("Apply complete"), "{out}");
    assert_eq!(
        identifiers(&sim),
        vec!["OS-crash1", "OS-warm"],
        "no second volume"
    );
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn a_snapshot_create_killed_mid_job_is_taken_back() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--job-ms", "3000"]);
    let tf = Tf::new();
    let vol = "resource \"vmax_volume\" \"v\" {\n  name = \"snapcrash\"\n  size_gb = 1\n}\n";
    tf.write(&format!("{}{vol}", sim.provider_block()));
    tf.apply();
    tf.write(&format!(
        "{}{vol}resource \"vmax_snapshot\" \"s\" {{\n  volume_id = vmax_volume.v.id\n  name = \"nightly\"\n}}\n",
        sim.provider_block()
    ));
    tf.kill(
        APPLY,
        "vmax_snapshot.s: Creating...",
        Duration::from_millis(1200),
        "terraform",
    );
    providers_exit(&tf);
    assert_eq!(snapshot_names(&sim), vec!["nightly"]);
    tf.ok(APPLY);
    assert_eq!(
        snapshot_names(&sim),
        vec!["nightly"],
        "no second generation"
    );
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
    assert!(snapshot_names(&sim).is_empty());
}

#[test]
fn clones_killed_while_copying_are_resumed() {
    if !support::acc() {
        return;
    }
    for victim in ["terraform", "provider"] {
        // a full copy takes 6 s
        let sim = Sim::start_with(&["--copy-ms", "6000"]);
        let tf = Tf::new();
        let src = "resource \"vmax_volume\" \"src\" {\n  name = \"src\"\n  size_gb = 1\n}\n";
        tf.write(&format!("{}{src}", sim.provider_block()));
        tf.apply();
        tf.write(&format!(
            "{}{src}resource \"vmax_volume\" \"clone\" {{\n  name = \"clone\"\n  size_gb = 1\n  wait_for_copy = true\n  source {{\n    volume_id = vmax_volume.src.id\n  }}\n}}\n",
            sim.provider_block()
        ));
        tf.kill(
            APPLY,
            "vmax_volume.clone: Creating...",
            Duration::from_millis(2500),
            victim,
        );
        providers_exit(&tf);
        assert_eq!(identifiers(&sim), vec!["OS-clone", "OS-src"], "{victim}");
        let temps: Vec<String> = snapshot_names(&sim);
        assert_eq!(
            temps.len(),
            1,
            "{victim}: the temporary snapshot of the copy in flight: {temps:?}"
        );
        // the next apply takes the clone back, finishes the copy, and tidies up
        let out = tf.ok(APPLY);
        assert!(out.contains("Apply complete"), "{victim}: {out}");
        assert_eq!(
            identifiers(&sim),
            vec!["OS-clone", "OS-src"],
            "{victim}: no second clone"
        );
        assert!(
            snapshot_names(&sim).is_empty(),
            "{victim}: no stale temporary snapshot"
        );
        tf.assert_empty_plan();
        tf.destroy();
        sim.assert_clean();
    }
}
