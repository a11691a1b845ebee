//! Every example is formatted and valid, and the quickstart applies
//! against the simulator with an empty plan afterwards.

mod support;
use std::path::{Path, PathBuf};
use support::{Sim, Tf};

fn example_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![
        root.join("examples/provider"),
        root.join("examples/quickstart"),
        root.join("examples/replication"),
    ];
    for kind in ["resources", "data-sources", "ephemeral-resources"] {
        if let Ok(rd) = std::fs::read_dir(root.join("examples").join(kind)) {
            out.extend(
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir()),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn examples_are_formatted_and_valid() {
    if !support::acc() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tf = Tf::new();
    let out = tf.run(&[
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        root.join("examples").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "terraform fmt -check: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for dir in example_dirs(root) {
        let tf = Tf::new();
        let mut has_terraform_block = false;
        for e in std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
            if e.path().extension().is_some_and(|x| x == "tf") {
                let text = std::fs::read_to_string(e.path()).unwrap();
                has_terraform_block |= text.contains("required_providers");
                std::fs::write(tf.dir.path().join(e.file_name()), text).unwrap();
            }
        }
        if !has_terraform_block {
            std::fs::write(tf.dir.path().join("versions.tf"), "terraform {\n  required_providers {\n    vmax = { source = \"local/vmax\" }\n  }\n}\n").unwrap();
        }
        let out = tf.run(&["validate", "-no-color"]);
        assert!(
            out.status.success(),
            "{} does not validate:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn quickstart_applies_against_the_simulator() {
    if !support::acc() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sim = Sim::start();
    let ca = sim.dir.path().join("vmax-sim-ca.pem");
    let endpoint = sim.url.replace("127.0.0.1", "localhost");
    let tf = Tf::new()
        .env("VMAX_ENDPOINT", &endpoint)
        .env("VMAX_USERNAME", "smc")
        .env("VMAX_PASSWORD", "smc")
        .env("VMAX_ARRAY", support::ARRAY)
        .env("VMAX_CA_CERT_FILE", ca.to_str().unwrap())
        .env("VMAX_PORT_GROUPS", "OS-iscsi-PG")
        .env("VMAX_JOB_POLL_INTERVAL", "0.05");
    for e in std::fs::read_dir(root.join("examples/quickstart"))
        .unwrap()
        .filter_map(|e| e.ok())
    {
        if e.path().extension().is_some_and(|x| x == "tf") {
            std::fs::copy(e.path(), tf.dir.path().join(e.file_name())).unwrap();
        }
    }
    tf.apply();
    tf.assert_empty_plan();
    let out = tf.ok(&["output", "-raw", "volume_id"]);
    assert!(
        sim.volumes()
            .iter()
            .any(|(id, _)| out.contains(id.as_str())),
        "{out}"
    );
    tf.destroy();
    assert!(sim.volumes().is_empty());
    assert!(sim.storage_groups().is_empty());
}

#[test]
fn replication_example_fails_over_and_back_against_the_simulator() {
    if !support::acc() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sim = Sim::start();
    let tf = Tf::new();
    let text = std::fs::read_to_string(root.join("examples/replication/main.tf"))
        .unwrap()
        .replace("https://127.0.0.1:8443", &sim.url);
    let write = |side: &str| {
        std::fs::write(
            tf.dir.path().join("main.tf"),
            text.replace(
                "replication_active_side = \"local\"",
                &format!("replication_active_side = \"{side}\""),
            ),
        )
        .unwrap();
    };
    write("local");
    tf.apply();
    tf.assert_empty_plan();
    let out = |tf: &Tf| -> serde_json::Value {
        serde_json::from_str(&tf.ok(&["output", "-json", "serving"])).unwrap()
    };
    assert_eq!(out(&tf)["array"], support::ARRAY);
    assert_eq!(out(&tf)["pair"], "Synchronized");
    write("remote");
    tf.apply();
    tf.assert_empty_plan();
    assert_eq!(out(&tf)["array"], "000197800124");
    assert_eq!(out(&tf)["pair"], "Failed Over");
    write("local");
    tf.apply();
    tf.destroy();
    sim.assert_clean();
    assert!(
        sim.state()["arrays"]["000197800124"]["volumes"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );
}
