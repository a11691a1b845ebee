//! Bad input, through the real `terraform`: each is refused at the
//! earliest phase that can see it (validate, or plan where the array must
//! be asked), with the attribute, and nothing reaches the array. The same
//! cases are the bad-input table in docs/guides/bad-input.md.

mod support;
use support::{Sim, Tf};

/// (resource HCL, phase, words the error must hold)
const CASES: &[(&str, &str, &[&str])] = &[
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "none"
}"#,
        "validate",
        &["service_level", "must be written \"None\""],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "NONE"
}"#,
        "validate",
        &["must be written \"None\""],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = ""
}"#,
        "validate",
        &["write \"None\""],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "diamond"
}"#,
        "validate",
        &["must be written \"Diamond\""],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "Gold"
  workload = "None"
}"#,
        "validate",
        &["workload", "omit workload"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  srp = "SRP_9"
}"#,
        "plan",
        &["srp", "SRP_9", "SRP_1"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "Gold"
  qos {
    max_iops = 150
  }
}"#,
        "validate",
        &["max_iops", "100 to 100000 IO/s in steps of 100"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "Gold"
  qos {
    max_mbps = 0
  }
}"#,
        "validate",
        &["max_mbps", "1 to 100000 MB/s"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "Gold"
  qos {
    max_mbps = 10
    distribution = "Sometimes"
  }
}"#,
        "validate",
        &["distribution", "one of `Never`, `OnFailure`, `Always`"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "Gold"
  qos {
    distribution = "Always"
  }
}"#,
        "validate",
        &["qos needs max_iops, max_mbps or both"],
    ),
    (
        r#"resource "vmax_volume" "v" {
  name = "v"
  size_gb = 1
  service_level = "None"
  compression = false
  qos {
    max_iops = 500
  }
}"#,
        "validate",
        &["compression", "qos", "needs a service level"],
    ),
    (
        r#"resource "vmax_volume_group" "g" {
  name = "g"
  volume_ids = []
  timeouts {
    create = "90"
  }
}"#,
        "validate",
        &["create", "is not a duration such as \"500ms\""],
    ),
    (
        r#"resource "vmax_iscsi_export" "e" {
  volume_id = "00100"
  host = ".web1"
  initiator = "iqn.1993-08.org.debian:01:x"
}"#,
        "validate",
        &["host", "not starting or ending with a dot"],
    ),
    (
        r#"resource "vmax_iscsi_export" "e" {
  volume_id = "00100"
  host = "web1"
  initiator = "iqn.1993-08.org.debian:01:a b"
}"#,
        "validate",
        &["initiator", "no spaces"],
    ),
    (
        r#"resource "vmax_iscsi_export" "e" {
  volume_id = "00100"
  host = "web1"
  initiator = "iqn.1993-08.org.debian:01:x"
  chap {
    username = "u"
    secret = ""
  }
}"#,
        "validate",
        &["chap secret must not be empty"],
    ),
    (
        r#"resource "vmax_iscsi_export" "e" {
  volume_id = "00100"
  host = "web1"
  initiator = "iqn.1993-08.org.debian:01:x"
  port_group = "../../../sim/state"
}"#,
        "validate",
        &["port_group", "letters, digits"],
    ),
    (
        r#"resource "vmax_snapshot" "s" {
  volume_id = "db01"
  name = "nightly"
}"#,
        "validate",
        &["volume_id", "five hex digits"],
    ),
];

#[test]
fn bad_input_is_refused_early_with_its_attribute() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    for (hcl, phase, words) in CASES {
        let tf = Tf::new();
        tf.write(&format!("{}{hcl}\n", sim.provider_block()));
        let before = sim.metrics()["total"].clone();
        let args: &[&str] = if *phase == "validate" {
            &["validate", "-no-color"]
        } else {
            &["plan", "-no-color", "-input=false"]
        };
        let out = tf.fails(args);
        for w in *words {
            assert!(out.contains(w), "{hcl}\nexpected {w:?} in:\n{out}");
        }
        if *phase == "validate" {
            assert_eq!(
                sim.metrics()["total"],
                before,
                "validate called the array for {hcl}"
            );
        }
    }
    sim.assert_clean();
}

#[test]
fn transport_and_settings_are_checked() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let vol = "resource \"vmax_volume\" \"v\" {\n  name = \"v\"\n  size_gb = 1\n}\n";
    let plan = |block: String, env: &[(&str, &str)]| {
        let mut tf = Tf::new();
        for (k, v) in env {
            tf = tf.env(k, v);
        }
        tf.write(&format!("{block}{vol}"));
        tf
    };
    let http = sim
        .provider_block()
        .replace("https://", "http://")
        .replace("  insecure    = true\n", "");
    let out = plan(http, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("clear text"), "{out}");
    let creds = sim.provider_block().replace("https://", "https://smc:smc@");
    let out = plan(creds, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("carries a user name or password"), "{out}");
    let both = sim.provider_block().replace(
        "  insecure    = true\n",
        "  insecure    = true\n  ca_cert_file = \"/nonexistent.pem\"\n",
    );
    let out = plan(both, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("set one of them"), "{out}");
    // insecure works, with a warning on every run
    let out = plan(sim.provider_block(), &[]).ok(&["plan", "-no-color", "-input=false"]);
    assert!(
        out.contains("Unisphere's certificate is not verified"),
        "{out}"
    );
    // numbers: no panic, the variable named
    let no_timeout = sim.provider_block();
    let out = plan(no_timeout.clone(), &[("VMAX_JOB_TIMEOUT", "1e400")]).fails(&[
        "plan",
        "-no-color",
        "-input=false",
    ]);
    assert!(out.contains("VMAX_JOB_TIMEOUT is inf"), "{out}");
    let out = plan(no_timeout.clone(), &[("VMAX_RESERVED_PERCENTAGE", "lots")]).fails(&[
        "plan",
        "-no-color",
        "-input=false",
    ]);
    assert!(
        out.contains("VMAX_RESERVED_PERCENTAGE is \"lots\", which is not a number"),
        "{out}"
    );
    let fast = sim.provider_block().replace(
        "job_poll_interval = 0.05",
        "job_poll_interval = 0.000000001",
    );
    let out = plan(fast, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("between 0.01 and 300 seconds"), "{out}");
    // an API version this Unisphere does not serve
    let v85 = sim.provider_block().replace(
        "  insecure    = true\n",
        "  insecure    = true\n  api_version = \"85\"\n",
    );
    let out = plan(v85, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("api_version 85 is not served"), "{out}");
    // no password anywhere in the output
    assert!(!out.contains("smc:smc"));
    // http:// to this HTTPS simulator (allowed with insecure): named as such
    let plain = sim.provider_block().replace("https://", "http://");
    let out = plan(plain, &[]).fails(&["plan", "-no-color", "-input=false"]);
    assert!(
        out.contains("the endpoint speaks TLS: use https://"),
        "{out}"
    );
}

#[test]
fn a_volume_grown_outside_terraform_says_so() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let hcl = "resource \"vmax_volume\" \"v\" {\n  name = \"grown\"\n  size_gb = 2\n}\n";
    tf.write(&format!("{}{hcl}", sim.provider_block()));
    tf.apply();
    let dev = tf.resource("vmax_volume.v")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = sim.rest(
        "PUT",
        &format!("/100/sloprovisioning/symmetrix/{}/volume/{dev}", support::ARRAY),
        Some(serde_json::json!({"editVolumeActionParam": {"expandVolumeParam": {"volumeAttribute": {"volume_size": "4", "capacityUnit": "GB"}}}})),
    );
    assert_eq!(s, 200, "{b}");
    let out = tf.fails(&["plan", "-no-color", "-input=false"]);
    assert!(
        out.contains("grown outside Terraform from 2 GB to 4 GB"),
        "{out}"
    );
    assert!(out.contains("Set size_gb = 4"), "{out}");
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        hcl.replace("size_gb = 2", "size_gb = 4")
    ));
    tf.assert_empty_plan();
    // a real shrink keeps the seed's message
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        hcl.replace("size_gb = 2", "size_gb = 3")
    ));
    let out = tf.fails(&["plan", "-no-color", "-input=false"]);
    assert!(out.contains("Only Extend is supported"), "{out}");
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        hcl.replace("size_gb = 2", "size_gb = 4")
    ));
    tf.destroy();
    sim.assert_clean();
}

#[test]
fn volume_names_with_spaces_and_slashes_work() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let hcl = |n: &str| {
        format!(
            "{}resource \"vmax_volume\" \"v\" {{\n  name = \"{n}\"\n  size_gb = 1\n}}\n",
            sim.provider_block()
        )
    };
    tf.write(&hcl("db 01/x?y"));
    tf.apply();
    assert_eq!(sim.volumes()[0].1, "OS-db 01/x?y");
    tf.assert_empty_plan();
    tf.write(&hcl("db 02/z#w"));
    tf.apply();
    assert_eq!(sim.volumes()[0].1, "OS-db 02/z#w");
    tf.assert_empty_plan();
    // a second workspace is refused on the odd name too
    let other = Tf::new();
    other.write(&hcl("db 02/z#w"));
    let out = other.fails(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.contains("already exists"), "{out}");
    tf.destroy();
    sim.assert_clean();
}
