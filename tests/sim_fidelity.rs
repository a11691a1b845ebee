//! vmax-sim fidelity, round 2: what real Unisphere clients read and what
//! real arrays refuse, pinned with literal JSON from the OpenAPI spec, the
//! PyU4V package and the design document (never a round trip through our
//! own client).

mod support;
use serde_json::{Value, json};
use support::{ARRAY, Sim};

fn sp(ver: u32) -> String {
    format!("/{ver}/sloprovisioning/symmetrix/{ARRAY}")
}

/// A group with a service level and `n` volumes named `<sg>-<i>`.
fn group(sim: &Sim, sg: &str, n: u32) -> Vec<String> {
    let (s, b) = sim.rest(
        "POST",
        &format!("{}/storagegroup", sp(100)),
        Some(json!({"srpId": "SRP_1", "storageGroupId": sg, "emulation": "FBA",
            "sloBasedStorageGroupParam": [{"sloId": "Diamond", "volumeAttributes": [{"num_of_vols": n, "volume_size": "1", "capacityUnit": "GB"}]}]})),
    );
    assert_eq!(s, 201, "{b}");
    let (_, l) = sim.rest(
        "GET",
        &format!("{}/volume?storageGroupId={sg}", sp(100)),
        None,
    );
    l["resultList"]["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v["volumeId"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn empty_group(sim: &Sim, sg: &str) {
    let (s, b) = sim.rest(
        "POST",
        &format!("{}/storagegroup", sp(100)),
        Some(json!({"srpId": "None", "storageGroupId": sg, "emulation": "FBA", "create_empty_storage_group": "true"})),
    );
    assert_eq!(s, 201, "{b}");
}

fn nest(sim: &Sim, ver: u32, parent: &str, child: &str) {
    let (s, b) = sim.rest(
        "PUT",
        &format!("{}/storagegroup/{parent}", sp(ver)),
        Some(json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addExistingStorageGroupParam": {"storageGroupId": [child]}}}})),
    );
    assert_eq!(s, 200, "{b}");
}

#[test]
fn a_parent_with_children_is_deleted_up_to_api_92_and_refused_from_100() {
    let sim = Sim::start();
    empty_group(&sim, "parent");
    empty_group(&sim, "child");
    nest(&sim, 100, "parent", "child");
    let (s, b) = sim.rest("DELETE", &format!("{}/storagegroup/parent", sp(100)), None);
    assert_eq!(s, 400, "API 100 refuses: {b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("remove its child storage groups first")
    );
    let (s, b) = sim.rest("DELETE", &format!("{}/storagegroup/parent", sp(92)), None);
    assert_eq!(s, 204, "API 92 accepts: {b}");
    let (s, child) = sim.rest("GET", &format!("{}/storagegroup/child", sp(92)), None);
    assert_eq!(s, 200);
    assert_eq!(
        child["type"], "Standalone",
        "the child stays, standalone: {child}"
    );
    assert!(child.get("parent_storage_group").is_none());
}

#[test]
fn api_83_serves_the_seeds_nesting_body() {
    let sim = Sim::start();
    empty_group(&sim, "p83");
    empty_group(&sim, "c83");
    // the 8.3 body, exactly as the seed sends it
    let body = json!({"editStorageGroupActionParam": {"addExistingStorageGroupParam": {"storageGroupId": ["c83"]}}});
    let (s, b) = sim.rest(
        "PUT",
        &format!("{}/storagegroup/p83", sp(84)),
        Some(body.clone()),
    );
    assert_eq!(s, 400, "8.4 wants it under expandStorageGroupParam: {b}");
    let (s, b) = sim.rest("PUT", &format!("{}/storagegroup/p83", sp(83)), Some(body));
    assert_eq!(s, 200, "{b}");
    let (_, g) = sim.rest("GET", &format!("{}/storagegroup/p83", sp(83)), None);
    assert_eq!(g["child_storage_group"], json!(["c83"]));
    assert_eq!(g["type"], "Parent");
}

#[test]
fn headroom_answers_every_level_and_workload() {
    let sim = Sim::start();
    for slo in [
        "Diamond",
        "Platinum",
        "Gold",
        "Silver",
        "Bronze",
        "Optimized",
        "None",
    ] {
        for wl in ["OLTP", "OLTP_REP", "DSS", "DSS_REP", "None"] {
            let (s, b) = sim.rest(
                "GET",
                &format!(
                    "/84/wlp/symmetrix/{ARRAY}/headroom?srp=SRP_1&slo={slo}&workloadtype={wl}"
                ),
                None,
            );
            assert_eq!(s, 200, "{slo}/{wl}: {b}");
            // the seed reads b["headroom"][0]["headroomCapacity"]
            assert!(
                b["headroom"][0]["headroomCapacity"].is_f64(),
                "{slo}/{wl}: {b}"
            );
        }
    }
    // an array without workload-planner data answers a 4xx, never []
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string("seeds/powermax-8000.json").unwrap())
            .unwrap();
    v["arrays"][0]["symmetrix_id"] = json!(ARRAY);
    v["arrays"][0]["wlp"] = json!(false);
    std::fs::write(&seed, v.to_string()).unwrap();
    let sim = Sim::start_in(dir, &["--seed-file", seed.to_str().unwrap()]);
    let (s, b) = sim.rest(
        "GET",
        &format!("/100/wlp/symmetrix/{ARRAY}/headroom?srp=SRP_1&slo=Diamond&workloadtype=None"),
        None,
    );
    assert!((400..500).contains(&s), "{s} {b}");
}

#[test]
fn private_volume_detail_has_the_real_header() {
    let sim = Sim::start();
    let devs = group(&sim, "pv-sg", 1);
    let (_, v) = sim.rest("GET", &format!("{}/volume/{}", sp(100), devs[0]), None);
    let wwn = v["wwn"].as_str().unwrap();
    let (s, l) = sim.rest(
        "GET",
        &format!("/private/100/sloprovisioning/symmetrix/{ARRAY}/volume?wwn={wwn}"),
        None,
    );
    assert_eq!(s, 200);
    let d = &l["resultList"]["result"][0];
    let h = &d["volumeHeader"];
    assert!(
        h.get("volumeIdentifier").is_none(),
        "the identifier is userDefinedIdentifier"
    );
    for (k, t) in [
        ("userDefinedIdentifier", "string"),
        ("emulationType", "string"),
        ("configuration", "string"),
        ("private", "bool"),
        ("serviceState", "string"),
        ("mapped", "bool"),
        ("numStorageGroups", "number"),
        ("numSymDevMaskingViews", "number"),
        ("reservationInfo", "object"),
        ("encapsulated", "bool"),
        ("formattedName", "string"),
        ("system_resource", "bool"),
        ("nameModifier", "string"),
        ("serviceLevel", "string"),
        ("workload", "string"),
        ("compressionEnabled", "bool"),
    ] {
        let ok = match t {
            "string" => h[k].is_string(),
            "bool" => h[k].is_boolean(),
            "number" => h[k].is_number(),
            _ => h[k].is_object(),
        };
        assert!(ok, "volumeHeader.{k} should be a {t}: {h}");
    }
    assert_eq!(
        (h["configuration"].as_str(), h["emulationType"].as_str()),
        (Some("TDEV"), Some("FBA"))
    );
    assert_eq!(h["serviceLevel"], "Diamond");
    assert_eq!(d["maskingInfo"], json!({"masked": false}));
    for k in [
        "dynamicRDF",
        "RDF",
        "concurrentRDF",
        "getDynamicRDFCapability",
        "RDFA",
    ] {
        assert!(d["rdfInfo"].get(k).is_some(), "rdfInfo.{k}");
    }
    // the same detail by identifier
    let (_, l) = sim.rest(
        "GET",
        &format!("/private/100/sloprovisioning/symmetrix/{ARRAY}/volume?volume_identifier=pv"),
        None,
    );
    assert_eq!(l["count"], 0);
}

fn snapshot(sim: &Sim, dev: &str, name: &str) {
    let (s, b) = sim.rest(
        "POST",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/{name}"),
        Some(json!({"deviceNameListSource": [{"name": dev}], "bothSides": "false", "star": "false", "force": "false"})),
    );
    assert!(s < 300, "{b}");
}

fn snaps(sim: &Sim, dev: &str) -> Value {
    sim.rest(
        "GET",
        &format!("/private/100/replication/symmetrix/{ARRAY}/volume/{dev}/snapshot"),
        None,
    )
    .1
}

#[test]
fn snap_ids_on_powermax_and_generations_on_5977() {
    // 5977: generations only; a snap_id in a request is refused
    let sim = Sim::start();
    let devs = group(&sim, "g77", 2);
    snapshot(&sim, &devs[0], "s");
    let v = snaps(&sim, &devs[0]);
    assert!(v["snapshotSrcs"][0].get("snap_id").is_none(), "{v}");
    let (s, _) = sim.rest(
        "DELETE",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/s"),
        Some(json!({"deviceNameListSource": [{"name": devs[0]}], "snap_id": 1})),
    );
    assert_eq!(s, 400);

    // PowerMax 5978.711: snap ids everywhere, and requests may use them
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    let mut seedv: Value =
        serde_json::from_str(&std::fs::read_to_string("seeds/powermax-8000.json").unwrap())
            .unwrap();
    seedv["arrays"][0]["symmetrix_id"] = json!(ARRAY);
    std::fs::write(&seed, seedv.to_string()).unwrap();
    let sim = Sim::start_in(dir, &["--seed-file", seed.to_str().unwrap()]);
    let devs = group(&sim, "g78", 2);
    snapshot(&sim, &devs[0], "s");
    snapshot(&sim, &devs[0], "s");
    let v = snaps(&sim, &devs[0]);
    let srcs = v["snapshotSrcs"].as_array().unwrap();
    assert_eq!(srcs.len(), 2);
    let old = srcs.iter().find(|g| g["generation"] == 1).unwrap();
    let old_id = old["snap_id"].as_u64().expect("snap_id");
    assert_ne!(
        Some(old_id),
        srcs.iter().find(|g| g["generation"] == 0).unwrap()["snap_id"].as_u64()
    );
    // link the OLDER generation by snap id
    let (s, b) = sim.rest(
        "PUT",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/s"),
        Some(json!({"deviceNameListSource": [{"name": devs[0]}], "deviceNameListTarget": [{"name": devs[1]}],
            "action": "Link", "snap_id": old_id, "copy": "true"})),
    );
    assert!(s < 300, "{b}");
    let v = snaps(&sim, &devs[0]);
    let linked = v["snapshotSrcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| !g["linkedDevices"].as_array().unwrap().is_empty())
        .unwrap()
        .clone();
    assert_eq!(
        linked["snap_id"].as_u64(),
        Some(old_id),
        "the named snapshot is linked, not generation 0"
    );
    assert_eq!(linked["linkedDevices"][0]["snap_id"].as_u64(), Some(old_id));
    let t = snaps(&sim, &devs[1]);
    assert_eq!(t["snapshotLnks"][0]["snap_id"].as_u64(), Some(old_id));
    // the private volume detail calls it snapid
    let (_, tv) = sim.rest("GET", &format!("{}/volume/{}", sp(100), devs[1]), None);
    let (_, l) = sim.rest(
        "GET",
        &format!(
            "/private/100/sloprovisioning/symmetrix/{ARRAY}/volume?wwn={}",
            tv["wwn"].as_str().unwrap()
        ),
        None,
    );
    let sess = &l["resultList"]["result"][0]["timeFinderInfo"]["snapVXSession"][0];
    assert_eq!(
        sess["tgtSrcSnapshotGenInfo"]["snapid"].as_u64(),
        Some(old_id),
        "{sess}"
    );
}

#[test]
fn a_link_without_copy_is_a_nocopy_link() {
    let sim = Sim::start();
    let devs = group(&sim, "nc", 2);
    snapshot(&sim, &devs[0], "n");
    let (s, b) = sim.rest(
        "PUT",
        &format!("/private/100/replication/symmetrix/{ARRAY}/snapshot/n"),
        Some(json!({"deviceNameListSource": [{"name": devs[0]}], "deviceNameListTarget": [{"name": devs[1]}],
            "action": "Link", "generation": 0, "copy": "false"})),
    );
    assert!(s < 300, "{b}");
    let l = &snaps(&sim, &devs[0])["snapshotSrcs"][0]["linkedDevices"][0];
    assert_eq!(
        (l["copy"].as_bool(), l["state"].as_str()),
        (Some(false), Some("Linked")),
        "{l}"
    );
}

#[test]
fn port_groups_ports_and_health() {
    let sim = Sim::start();
    // the spec's example request
    let (s, b) = sim.rest(
        "POST",
        &format!("{}/portgroup", sp(100)),
        Some(json!({"portGroupId": "finance1_portgroup", "symmetrixPortKey": [{"directorId": "SE-3E", "portId": "0"}]})),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        b["symmetrixPortKey"],
        json!([{"directorId": "SE-3E", "portId": "0"}])
    );
    let (s, _) = sim.rest(
        "POST",
        &format!("{}/portgroup", sp(100)),
        Some(json!({"portGroupId": "bad", "symmetrixPortKey": [{"directorId": "FA-9Z", "portId": "5"}]})),
    );
    assert_eq!(s, 404, "an unknown port");
    let (s, _) = sim.rest(
        "DELETE",
        &format!("{}/portgroup/finance1_portgroup", sp(100)),
        None,
    );
    assert_eq!(s, 204);
    // a port group in a view cannot be deleted
    group(&sim, "mvsg", 1);
    let (s, b) = sim.rest(
        "POST",
        &format!("{}/host", sp(100)),
        Some(json!({"hostId": "h", "initiatorId": ["iqn.1993-08.org.debian:01:pg"]})),
    );
    assert!(s < 300, "{b}");
    let (s, b) = sim.rest(
        "POST",
        &format!("{}/maskingview", sp(100)),
        Some(json!({"maskingViewId": "mv",
        "portGroupSelection": {"useExistingPortGroupParam": {"portGroupId": "OS-iscsi-PG"}},
        "hostOrHostGroupSelection": {"useExistingHostParam": {"hostId": "h"}},
        "storageGroupSelection": {"useExistingStorageGroupParam": {"storageGroupId": "mvsg"}}})),
    );
    assert!(s < 300, "{b}");
    let (s, b) = sim.rest(
        "DELETE",
        &format!("{}/portgroup/OS-iscsi-PG", sp(100)),
        None,
    );
    assert_eq!(s, 400, "{b}");
    // GET {sp}/port: the spec's shape
    let (s, b) = sim.rest("GET", &format!("{}/port", sp(100)), None);
    assert_eq!(s, 200);
    assert_eq!(
        b["symmetrixPortKey"][0],
        json!({"directorId": "SE-1E", "portId": "0"})
    );
    // GET system health: the spec's shape
    let (s, b) = sim.rest(
        "GET",
        &format!("/100/system/symmetrix/{ARRAY}/health"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(b["num_failed_disks"], 0);
    let m = &b["health_score_metric"][0];
    for k in [
        "cached_date",
        "expired",
        "metric",
        "instance_metrics",
        "health_score",
        "data_date",
    ] {
        assert!(m.get(k).is_some(), "{k} in {m}");
    }
}

#[test]
fn list_filters_filter_or_are_refused() {
    let sim = Sim::start();
    group(&sim, "full", 2);
    empty_group(&sim, "empty");
    let (_, b) = sim.rest(
        "GET",
        &format!("{}/storagegroup?num_of_vols=>0", sp(100)),
        None,
    );
    assert_eq!(b["storageGroupId"], json!(["full"]));
    let (_, b) = sim.rest(
        "GET",
        &format!("{}/storagegroup?num_of_vols=0", sp(100)),
        None,
    );
    assert_eq!(b["storageGroupId"], json!(["empty"]));
    let (_, b) = sim.rest("GET", &format!("{}/volume?mapped=false", sp(100)), None);
    assert_eq!(b["count"], 2);
    let (_, b) = sim.rest("GET", &format!("{}/volume?mapped=true", sp(100)), None);
    assert_eq!(b["count"], 0);
    let (_, b) = sim.rest(
        "GET",
        &format!("{}/volume?tdev=true&cap_gb=1", sp(100)),
        None,
    );
    assert_eq!(b["count"], 2);
    let (s, b) = sim.rest(
        "GET",
        &format!("{}/volume?virtual_volumes=true", sp(100)),
        None,
    );
    assert_eq!(s, 400);
    assert!(
        b["message"].as_str().unwrap().contains("'virtual_volumes'"),
        "{b}"
    );
    let (s, _) = sim.rest(
        "GET",
        &format!("{}/host?num_of_initiators=>0", sp(100)),
        None,
    );
    assert_eq!(s, 200);
    let (s, _) = sim.rest("GET", &format!("{}/maskingview?nonsense=1", sp(100)), None);
    assert_eq!(s, 400);
}

#[test]
fn the_enhanced_api_selects_and_filters_on_10x_only() {
    let sim = Sim::start();
    let devs = group(&sim, "enh", 2);
    let (s, b) = sim.rest(
        "GET",
        &format!("/v1/systems/{ARRAY}/volumes?select=identifier,cap_gb,storage_groups.id&filter=num_of_storage_groups%20eq%201"),
        None,
    );
    assert_eq!(s, 200, "{b}");
    let vols = b["volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 2);
    assert_eq!(
        vols[0],
        json!({"id": devs[0], "identifier": "", "cap_gb": 1.0, "storage_groups": [{"id": "enh"}]})
    );
    // no select: the id alone
    let (_, b) = sim.rest("GET", &format!("/v1/systems/{ARRAY}/volumes"), None);
    assert_eq!(b["volumes"][0], json!({"id": devs[0]}));
    let (s, b) = sim.rest(
        "GET",
        &format!("/v1/systems/{ARRAY}/volumes?select=bogus"),
        None,
    );
    assert_eq!(s, 400, "{b}");
    let (s, _) = sim.rest(
        "GET",
        &format!("/v1/systems/{ARRAY}/volumes?filter=cap_gb%20about%201"),
        None,
    );
    assert_eq!(s, 400);
    let (_, b) = sim.rest(
        "GET",
        &format!(
            "/v1/systems/{ARRAY}/storage-groups?select=num_of_volumes&filter=id%20ilike%20ENH"
        ),
        None,
    );
    assert_eq!(
        b,
        json!({"storage_groups": [{"id": "enh", "num_of_volumes": 2}]})
    );
    // Unisphere 9.2 has no enhanced API
    let sim = Sim::start_with(&["--unisphere-version", "V9.2.1.4"]);
    let (s, _) = sim.rest("GET", &format!("/v1/systems/{ARRAY}/volumes"), None);
    assert_eq!(s, 404);
}

#[test]
fn errors_quote_the_full_path_and_hooks_need_credentials() {
    let sim = Sim::start();
    let (s, b) = sim.rest(
        "GET",
        "/100/sloprovisioning/symmetrix/000197800123/nothing/here",
        None,
    );
    assert_eq!(s, 404);
    assert_eq!(
        b["message"],
        "No such resource: GET /univmax/restapi/100/sloprovisioning/symmetrix/000197800123/nothing/here"
    );
    let c = reqwest::blocking::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    for path in ["/sim/state", "/sim/metrics", "/sim/requests", "/sim/faults"] {
        let r = c.get(format!("{}{path}", sim.url)).send().unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path} without credentials");
        let r = c
            .get(format!("{}{path}", sim.url))
            .basic_auth("smc", Some("wrong"))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path} with a wrong password");
    }
    let r = c
        .put(format!("{}/sim/faults", sim.url))
        .json(&json!({"error_rate": 1.0}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn changes_whose_answer_is_lost_are_made() {
    let sim = Sim::start();
    // 503 after the change
    sim.set_faults(json!({"rules": [{"method": "POST", "path_contains": "/host", "after_commit": "503", "times": 1}]}));
    let (s, _) = sim.rest(
        "POST",
        &format!("{}/host", sp(100)),
        Some(json!({"hostId": "lost503", "initiatorId": ["iqn.1993-08.org.debian:01:l1"]})),
    );
    assert_eq!(s, 503);
    assert!(
        sim.array()["hosts"]["lost503"].is_object(),
        "the host was made"
    );
    // the connection dropped after the change
    sim.set_faults(json!({"rules": [{"method": "POST", "path_contains": "/host", "after_commit": "close", "times": 1}]}));
    let c = reqwest::blocking::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = c
        .post(format!("{}/univmax/restapi{}/host", sim.url, sp(100)))
        .basic_auth("smc", Some("smc"))
        .json(&json!({"hostId": "lostclose", "initiatorId": ["iqn.1993-08.org.debian:01:l2"]}))
        .send()
        .and_then(|r| r.text());
    assert!(r.is_err(), "no answer: {r:?}");
    assert!(
        sim.array()["hosts"]["lostclose"].is_object(),
        "the host was made"
    );
}

#[test]
fn listening_on_every_address_says_so() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vmax-sim"))
        .args(["--listen", "0.0.0.0:0", "--ephemeral", "--http"])
        .stdout(std::process::Stdio::piped())
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("vmax-sim listening on http://0.0.0.0:"),
        "{line}"
    );
}

#[test]
fn half_sent_requests_time_out() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vmax-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ephemeral",
            "--http",
            "--read-timeout-ms",
            "300",
        ])
        .stdout(std::process::Stdio::piped())
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("vmax-sim listening on http://")
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    // headers never finished
    s.write_all(b"GET /univmax/restapi/version HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf);
    let _ = child.kill();
    let _ = child.wait();
    // the server closed the connection (a read error would be our 20 s guard)
    assert!(
        r.is_ok(),
        "the server kept the half-sent request open: {r:?}"
    );
}

#[test]
fn iterators_are_capped() {
    let sim = Sim::start();
    group(&sim, "it", 3);
    for _ in 0..300 {
        let (s, _) = sim.rest("GET", &format!("{}/volume", sp(100)), None);
        assert_eq!(s, 200);
    }
    let m = sim.metrics();
    assert!(m["iterators"].as_u64().unwrap() <= 256, "{m}");
}

#[test]
fn storage_group_snapvx_follows_the_spec() {
    let sim = Sim::start();
    let rp = format!("/100/replication/symmetrix/{ARRAY}/storagegroup");
    let devs = group(&sim, "sgsrc", 2);
    group(&sim, "sgtgt", 2);
    group(&sim, "sgone", 1);
    empty_group(&sim, "sgempty");
    // the spec's example request
    let (s, b) = sim.rest(
        "POST",
        &format!("{rp}/sgsrc/snapshot"),
        Some(json!({"snapshotName": "REST_SG_snapshot", "timeToLive": 10})),
    );
    assert_eq!(s, 201, "{b}");
    for k in [
        "name",
        "generation",
        "timestamp",
        "timestamp_utc",
        "state",
        "numSourceVolumes",
        "sourceVolume",
        "numStorageGroupVolumes",
        "isLinked",
    ] {
        assert!(b.get(k).is_some(), "{k} in {b}");
    }
    assert_eq!(b["numSourceVolumes"], 2);
    let (s, _) = sim.rest(
        "POST",
        &format!("{rp}/sgempty/snapshot"),
        Some(json!({"snapshotName": "x"})),
    );
    assert_eq!(s, 400, "a snapshot of an empty group is refused");
    let (_, b) = sim.rest("GET", &format!("{rp}/sgsrc/snapshot"), None);
    assert_eq!(b, json!({"name": ["REST_SG_snapshot"]}));
    let (_, b) = sim.rest(
        "GET",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot"),
        None,
    );
    assert_eq!(b, json!({"name": "REST_SG_snapshot", "generationCount": 1}));
    let (_, b) = sim.rest(
        "GET",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation"),
        None,
    );
    assert_eq!(b, json!({"generations": [0]}));
    // every member has the snapshot, at one point in time
    let (_, v0) = sim.rest(
        "GET",
        &format!(
            "/private/100/replication/symmetrix/{ARRAY}/volume/{}/snapshot",
            devs[0]
        ),
        None,
    );
    let (_, v1) = sim.rest(
        "GET",
        &format!(
            "/private/100/replication/symmetrix/{ARRAY}/volume/{}/snapshot",
            devs[1]
        ),
        None,
    );
    assert_eq!(
        v0["snapshotSrcs"][0]["timestamp_utc"],
        v1["snapshotSrcs"][0]["timestamp_utc"]
    );
    // link: same member count only; terminate refused while linked
    let link = |tgt: &str| json!({"action": "Link", "link": {"linkStorageGroupName": tgt, "copy": "true"}});
    let (s, _) = sim.rest(
        "PUT",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation/0"),
        Some(link("sgone")),
    );
    assert_eq!(s, 400);
    let (s, b) = sim.rest(
        "PUT",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation/0"),
        Some(link("sgtgt")),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["isLinked"], true);
    let (s, _) = sim.rest(
        "DELETE",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation/0"),
        None,
    );
    assert_eq!(s, 400);
    let (_, r) = sim.rest("GET", &format!("{rp}/sgtgt"), None);
    assert_eq!(r["isLinkTarget"], true);
    let (s, _) = sim.rest(
        "PUT",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation/0"),
        Some(json!({"action": "Unlink", "unlink": {"unlinkStorageGroupName": "sgtgt"}})),
    );
    assert_eq!(s, 200);
    let (s, _) = sim.rest(
        "DELETE",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/generation/0"),
        None,
    );
    assert_eq!(s, 204);
    // snap ids need PowerMax
    let (s, _) = sim.rest(
        "GET",
        &format!("{rp}/sgsrc/snapshot/REST_SG_snapshot/snapid"),
        None,
    );
    assert!((400..500).contains(&s));
}
