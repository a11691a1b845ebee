//! `vmax_pool`, `vmax_volume` and `vmax_port_group` data sources: figures
//! equal the seed's formula applied to the simulator's SRP numbers.

mod support;
use serde_json::json;
use support::{Sim, Tf};

/// An array with known SRP numbers: 1000 GB usable, 250 GB allocated by
/// others, 3000 GB subscribed, 10 % reserved, and workload-planner data
/// (headroom) for Diamond+OLTP only (`wlp: false`: no figures otherwise).
fn seeded_sim() -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, json!({"arrays": [{
        "symmetrix_id": "000197800123", "model": "PowerMax_2000", "ucode": "5978.711.711", "wlp": false,
        "slos": ["Diamond", "Gold"], "workloads": ["OLTP", "DSS"],
        "srps": {"SRP_1": {"srp_id": "SRP_1", "total_usable_cap_gb": 1000.0, "reserved_cap_percent": 10,
            "base_allocated_gb": 250.0, "base_subscribed_gb": 3000.0, "headroom_gb": {"Diamond+OLTP": 600.0}}},
        "ports": {"SE-1E:0": {"key": {"director": "SE-1E", "port": "0"}, "iqn": "iqn.1992-04.com.emc:seeded", "ip_addresses": ["198.51.100.7"]}},
        "port_groups": {"PG1": {"id": "PG1", "ports": [{"director": "SE-1E", "port": "0"}]}}
    }]}).to_string()).unwrap();
    Sim::start_in(dir, &["--seed-file", seed.to_str().unwrap()])
}

fn cfg(sim: &Sim, reserved: f64, body: &str) -> String {
    // API 84 reports capacities in exact GB
    sim.provider_block().replace("insecure    = true", &format!("insecure    = true\n  api_version = \"84\"\n  reserved_percentage = {reserved}\n  max_over_subscription_ratio = 5")) + body
}

#[test]
fn pool_figures_follow_the_seed_formula() {
    if !support::acc() {
        return;
    }
    let sim = seeded_sim();
    let tf = Tf::new();
    // a 100 GB volume, half written: allocated grows by 50
    tf.write(&cfg(&sim, 5.0, "resource \"vmax_volume\" \"v\" {\n  name = \"v\"\n  size_gb = 100\n  service_level = \"Gold\"\n}\n"));
    tf.apply();
    let dev = tf.resource("vmax_volume.v")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sim.hook_put(
            "/sim/write",
            &json!({"array": support::ARRAY, "volume": dev, "percent": 50})
        ),
        204
    );

    let pools = "data \"vmax_pool\" \"gold\" {\n  service_level = \"Gold\"\n}\ndata \"vmax_pool\" \"diamond\" {\n  service_level = \"Diamond\"\n  workload = \"OLTP\"\n}\ndata \"vmax_pools\" \"all\" {}\n";
    tf.write(&cfg(&sim, 5.0, &format!("resource \"vmax_volume\" \"v\" {{\n  name = \"v\"\n  size_gb = 100\n  service_level = \"Gold\"\n}}\n{pools}")));
    tf.apply();
    let gold = tf.resource("data.vmax_pool.gold");
    // no headroom: free = total - allocated; reserved = max(5, 10)
    assert_eq!(gold["total_capacity_gb"], 1000.0);
    assert_eq!(gold["allocated_capacity_gb"], 300.0);
    assert_eq!(gold["free_capacity_gb"], 700.0);
    assert_eq!(gold["provisioned_capacity_gb"], 3100.0);
    assert_eq!(gold["reserved_percentage"], 10.0);
    assert!(gold["headroom_capacity_gb"].is_null());
    assert_eq!(gold["pool_name"], "Gold+None+SRP_1+000197800123");
    assert_eq!(gold["location_info"], "000197800123#SRP_1#Gold#None");
    assert_eq!(gold["max_over_subscription_ratio"], 5.0);
    assert_eq!(
        (
            gold["thin_provisioning_support"].as_bool(),
            gold["thick_provisioning_support"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(
        (
            gold["vendor_name"].as_str(),
            gold["storage_protocol"].as_str()
        ),
        (Some("Dell EMC"), Some("iSCSI"))
    );
    // headroom: free = headroom - allocated
    let diamond = tf.resource("data.vmax_pool.diamond");
    assert_eq!(diamond["headroom_capacity_gb"], 600.0);
    assert_eq!(diamond["free_capacity_gb"], 300.0);
    // the pool list: no SLO, each SLO alone and with each workload
    let all = tf.resource("data.vmax_pools.all");
    assert_eq!(all["srp"], "SRP_1");
    let names: Vec<String> = all["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pool_name"].as_str().unwrap().to_string())
        .collect();
    let mut expected = vec!["None+None+SRP_1+000197800123".to_string()];
    for slo in ["Diamond", "Gold"] {
        expected.push(format!("{slo}+None+SRP_1+000197800123"));
        for w in ["OLTP", "DSS"] {
            expected.push(format!("{slo}+{w}+SRP_1+000197800123"));
        }
    }
    assert_eq!(names, expected);
    let d_oltp = all["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool_name"] == "Diamond+OLTP+SRP_1+000197800123")
        .unwrap();
    assert_eq!(d_oltp["free_capacity_gb"], 300.0);
    tf.assert_empty_plan();
    // REST economy: a vmax_pool read is one SRP read and one headroom read
    // (none without a service level); vmax_pools one SRP read and one
    // headroom read per pool with a service level
    let count = |m: &serde_json::Value, key: &str| m["requests"][key].as_u64().unwrap_or(0);
    let srp_key = "GET /{ver}/sloprovisioning/symmetrix/{array}/srp/{srp}";
    let wlp_key = "GET /{ver}/wlp/symmetrix/{array}/headroom";
    let before = sim.metrics();
    tf.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-no-color",
        "-input=false",
    ]);
    let after = sim.metrics();
    let reads = count(&after, srp_key) - count(&before, srp_key);
    let headrooms = count(&after, wlp_key) - count(&before, wlp_key);
    // two pools (both with a service level); the list has 7 pools, 6 with one
    assert_eq!((reads, headrooms), (3, 2 + 6), "{}", after["requests"]);

    // configured reserved above the array's wins
    tf.write(&cfg(&sim, 15.0, &format!("resource \"vmax_volume\" \"v\" {{\n  name = \"v\"\n  size_gb = 100\n  service_level = \"Gold\"\n}}\n{pools}")));
    tf.apply();
    assert_eq!(
        tf.resource("data.vmax_pool.gold")["reserved_percentage"],
        15.0
    );
}

#[test]
fn precondition_refuses_a_volume_the_pool_cannot_hold_and_lookups_work() {
    if !support::acc() {
        return;
    }
    let sim = seeded_sim();
    let tf = Tf::new();
    let body = r#"
data "vmax_pool" "p" {
  service_level = "Diamond"
  workload      = "OLTP"
}
resource "vmax_volume" "big" {
  name          = "big"
  size_gb       = 500
  service_level = "Diamond"
  workload      = "OLTP"
  lifecycle {
    precondition {
      condition     = data.vmax_pool.p.free_capacity_gb >= 500
      error_message = "not enough room"
    }
  }
}
"#;
    tf.write(&cfg(&sim, 0.0, body));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(out.contains("not enough room"), "{out}");
    assert!(sim.volumes().is_empty());

    let body = r#"
resource "vmax_volume" "v" {
  name          = "findme"
  size_gb       = 1
  service_level = "Gold"
}
data "vmax_volume" "by_name" {
  name = vmax_volume.v.name
}
data "vmax_volume" "by_id" {
  id = vmax_volume.v.id
}
data "vmax_port_group" "pg" {
  name = "PG1"
}
"#;
    tf.write(&cfg(&sim, 0.0, body));
    tf.apply();
    let id = tf.resource("vmax_volume.v")["id"].clone();
    assert_eq!(tf.resource("data.vmax_volume.by_name")["id"], id);
    assert_eq!(
        tf.resource("data.vmax_volume.by_id")["volume_identifier"],
        "OS-findme"
    );
    assert_eq!(
        tf.resource("data.vmax_port_group.pg")["target_portals"],
        json!(["198.51.100.7:3260"])
    );
    assert_eq!(
        tf.resource("data.vmax_port_group.pg")["target_iqns"],
        json!(["iqn.1992-04.com.emc:seeded"])
    );
}
