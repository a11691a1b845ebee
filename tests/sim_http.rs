//! vmax-sim over HTTP: shapes pinned with literal JSON from
//! `../shared/design/unisphere-rest.md`, refusals, iterators, faults, and
//! persistence across SIGKILL.

mod support;
use serde_json::{Value, json};
use support::{ARRAY, Sim};

fn sp(ver: u32) -> String {
    format!("/{ver}/sloprovisioning/symmetrix/{ARRAY}")
}

fn make_sg(sim: &Sim, name: &str, slo: Option<&str>) {
    let mut body = json!({"srpId": "SRP_1", "storageGroupId": name, "emulation": "FBA", "create_empty_storage_group": "true"});
    if let Some(s) = slo {
        body["sloBasedStorageGroupParam"] = json!([{"sloId": s, "workloadSelection": "None", "volumeAttributes": [{"num_of_vols": 0, "volume_size": "0", "capacityUnit": "GB"}]}]);
    }
    let (s, b) = sim.rest("POST", &format!("{}/storagegroup", sp(100)), Some(body));
    assert_eq!(s, 201, "{b}");
}

fn add_volumes(sim: &Sim, sg: &str, n: u32, ident: &str) -> (u16, Value) {
    sim.rest(
        "PUT",
        &format!("{}/storagegroup/{sg}", sp(84)),
        Some(json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addVolumeParam": {
            "num_of_vols": n, "emulation": "FBA",
            "volumeIdentifier": {"identifier_name": ident, "volumeIdentifierChoice": "identifier_name"},
            "volumeAttribute": {"volume_size": "10", "capacityUnit": "GB"}}}}})),
    )
}

#[test]
fn version_and_system_shapes() {
    let sim = Sim::start();
    let (s, v) = sim.rest("GET", "/version", None);
    assert_eq!(s, 200);
    assert_eq!(v["version"], "V10.4.0.0");
    assert_eq!(v["api_version"], "104");
    assert!(
        v["supported_api_versions"]
            .as_array()
            .unwrap()
            .contains(&json!("100"))
    );
    // the SRDF partner is managed by the same Unisphere, remotely
    let (_, v) = sim.rest("GET", "/84/system/symmetrix", None);
    assert_eq!(v, json!({"symmetrixId": [ARRAY, "000197800124"]}));
    let (_, v) = sim.rest("GET", "/100/system/symmetrix/000197800124", None);
    assert_eq!(v["local"], json!(false));
    let (_, v) = sim.rest("GET", &format!("/100/system/symmetrix/{ARRAY}"), None);
    assert_eq!(
        (
            v["model"].as_str(),
            v["ucode"].as_str(),
            v["local"].as_bool()
        ),
        (Some("VMAX250F"), Some("5977.1125.1125"), Some(true))
    );
    let (_, v) = sim.rest("GET", &format!("{}/slo", sp(84)), None);
    assert_eq!(
        v,
        json!({"sloId": ["Bronze", "Diamond", "Gold", "Optimized", "Platinum", "Silver"]})
    );
    let (_, v) = sim.rest("GET", &format!("{}/workloadtype", sp(84)), None);
    assert_eq!(
        v,
        json!({"workloadId": ["OLTP", "OLTP_REP", "DSS", "DSS_REP"]})
    );
    let (_, v) = sim.rest("GET", &format!("{}/srp/SRP_1", sp(84)), None);
    assert_eq!(v["total_usable_cap_gb"], 307200.0);
    assert_eq!(v["reserved_cap_percent"], 10);
    let (_, v) = sim.rest("GET", &format!("{}/srp/SRP_1", sp(100)), None);
    assert_eq!(v["srp_capacity"]["usable_total_tb"], 300.0);
    assert!(v.get("total_usable_cap_gb").is_none());
    for ver in [84, 90, 91, 92, 100, 101, 102, 103, 104, 110] {
        assert_eq!(
            sim.rest("GET", &format!("{}/srp", sp(ver)), None).0,
            200,
            "version {ver}"
        );
    }
    assert_eq!(sim.rest("GET", &format!("{}/srp", sp(85)), None).0, 404);
}

#[test]
fn port_group_and_director_shapes_follow_the_path_version() {
    let sim = Sim::start();
    let (_, v84) = sim.rest("GET", &format!("{}/portgroup/OS-iscsi-PG", sp(84)), None);
    assert_eq!(
        v84["symmetrixPortKey"],
        json!([{"directorId": "SE-1E", "portId": "SE-1E:0"}, {"directorId": "SE-2E", "portId": "SE-2E:0"}])
    );
    let (_, v100) = sim.rest("GET", &format!("{}/portgroup/OS-iscsi-PG", sp(100)), None);
    assert_eq!(
        v100["symmetrixPortKey"],
        json!([{"directorId": "SE-1E", "portId": "0"}, {"directorId": "SE-2E", "portId": "0"}])
    );
    let (_, p) = sim.rest("GET", &format!("{}/director/SE-1E/port/0", sp(84)), None);
    assert_eq!(
        p["symmetrixPort"]["symmetrixPortKey"],
        json!({"directorId": "SE-1E", "portId": "0"})
    );
    assert_eq!(p["symmetrixPort"]["ip_addresses"], json!(["192.0.2.10"]));
    assert!(
        p["symmetrixPort"]["identifier"]
            .as_str()
            .unwrap()
            .starts_with("iqn.1992-04.com.emc:")
    );
    let (_, p) = sim.rest(
        "GET",
        &format!("/100/system/symmetrix/{ARRAY}/director/SE-3E/port/0"),
        None,
    );
    assert_eq!(p["symmetrixPort"]["port_status"], "ON");
    let (_, l) = sim.rest("GET", &format!("/100/system/symmetrix/{ARRAY}/director/SE-2E/port?iscsi_endpoint=true&ip_list=192.0.2.11"), None);
    assert_eq!(
        l,
        json!({"symmetrixPortKey": [{"directorId": "SE-2E", "portId": "0"}]})
    );
}

#[test]
fn volume_create_job_and_shapes() {
    let sim = Sim::start();
    make_sg(&sim, "OS-SRP_1-Diamond-SG", Some("Diamond"));
    let (s, job) = sim.rest(
        "PUT",
        &format!("{}/storagegroup/OS-SRP_1-Diamond-SG", sp(100)),
        Some(json!({"executionOption": "ASYNCHRONOUS", "editStorageGroupActionParam": {"expandStorageGroupParam": {"addVolumeParam": {
            "emulation": "FBA", "create_new_volumes": false,
            "volumeAttributes": [{"num_of_vols": 1, "volume_size": "10", "capacityUnit": "GB",
                "volumeIdentifier": {"identifier_name": "OS-vol1", "volumeIdentifierChoice": "identifier_name"}}]}}}})),
    );
    assert_eq!(s, 202);
    assert_eq!(job["status"], "SCHEDULED");
    let id = job["jobId"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(120));
    let (_, j) = sim.rest("GET", &format!("/100/system/job/{id}"), None);
    assert_eq!(j["status"], "SUCCEEDED");
    let desc = j["task"][0]["description"].as_str().unwrap();
    assert!(
        desc.starts_with("Creating new Volumes for OS-vol1 : ["),
        "{desc}"
    );
    let dev = &desc[desc.rfind('[').unwrap() + 1..desc.len() - 1];
    let (_, v) = sim.rest("GET", &format!("{}/volume/{dev}", sp(84)), None);
    let expected = json!({
        "volumeId": dev, "type": "TDEV", "emulation": "FBA", "ssid": "FFFFFFFF", "allocated_percent": 0,
        "cap_gb": 10.0, "cap_mb": 10240.0, "cap_cyl": 5462, "status": "Ready", "reserved": false, "pinned": false,
        "wwn": v["wwn"], "encapsulated": false, "num_of_storage_groups": 1, "num_of_front_end_paths": 0,
        "storageGroupId": ["OS-SRP_1-Diamond-SG"], "volume_identifier": "OS-vol1",
        "snapvx_source": false, "snapvx_target": false
    });
    assert_eq!(v, expected);
    assert_eq!(v["wwn"].as_str().unwrap().len(), 32);
    let (_, l) = sim.rest(
        "GET",
        &format!("{}/volume?volume_identifier=OS-vol1", sp(100)),
        None,
    );
    assert_eq!(l["resultList"]["result"], json!([{"volumeId": dev}]));
    assert_eq!(
        (l["count"].as_u64(), l["maxPageSize"].as_u64()),
        (Some(1), Some(1000))
    );
    let (_, g) = sim.rest(
        "GET",
        &format!("{}/storagegroup/OS-SRP_1-Diamond-SG", sp(84)),
        None,
    );
    assert_eq!(
        (
            g["num_of_vols"].as_u64(),
            g["type"].as_str(),
            g["slo"].as_str()
        ),
        (Some(1), Some("Standalone"), Some("Diamond"))
    );
    assert!(g.get("maskingview").is_none(), "absent lists are omitted");
}

#[test]
fn refusals_are_4xx_with_actionable_messages() {
    let sim = Sim::start();
    let (s, v) = sim.rest("GET", &format!("{}/storagegroup/nope", sp(100)), None);
    assert_eq!(
        (s, v["message"].as_str()),
        (404, Some("Cannot find Storage Group nope"))
    );
    let (s, v) = sim.rest("GET", &format!("{}/volume/0FFFF", sp(100)), None);
    assert_eq!(
        (s, v["message"].as_str()),
        (404, Some("Could not find volume 0FFFF"))
    );
    make_sg(&sim, "sg1", Some("Gold"));
    assert_eq!(
        sim.rest(
            "POST",
            &format!("{}/storagegroup", sp(100)),
            Some(json!({"srpId": "SRP_1", "storageGroupId": "sg1"}))
        )
        .0,
        409
    );
    let (s, v) = sim.rest(
        "POST",
        &format!("{}/storagegroup", sp(100)),
        Some(json!({"srpId": "SRP_1", "storageGroupId": "bad name!"})),
    );
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("invalid character"));
    let (s, v) = sim.rest("PUT", &format!("{}/storagegroup/sg1", sp(100)), Some(json!({"editStorageGroupActionParam": {
        "removeVolumeParam": {"volumeId": ["00100"]}, "editStorageGroupSLOParam": {"sloId": "Gold"}}})));
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Choose one edit operation only per request"))
    );
    add_volumes(&sim, "sg1", 1, "OS-x");
    let (s, v) = sim.rest("DELETE", &format!("{}/volume/00100", sp(100)), None);
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("remove it from every storage group")
    );
    let (s, v) = sim.rest("PUT", &format!("{}/volume/00100", sp(100)), Some(json!({"editVolumeActionParam": {"expandVolumeParam": {"volumeAttribute": {"volume_size": "5", "capacityUnit": "GB"}}}})));
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("only grow"));
    // a storage group in a view, a host in a view
    make_sg(&sim, "parent", None);
    let (s, _) = sim.rest(
        "POST",
        &format!("{}/host", sp(100)),
        Some(json!({"hostId": "h1", "initiatorId": ["iqn.1993-08.org.debian:01:abc"]})),
    );
    assert_eq!(s, 201);
    let (s, v) = sim.rest(
        "POST",
        &format!("{}/host", sp(100)),
        Some(json!({"hostId": "h2", "initiatorId": ["iqn.1993-08.org.debian:01:abc"]})),
    );
    assert_eq!(s, 400, "{v}");
    let (s, _) = sim.rest(
        "POST",
        &format!("{}/maskingview", sp(100)),
        Some(json!({"maskingViewId": "mv1",
        "portGroupSelection": {"useExistingPortGroupParam": {"portGroupId": "OS-iscsi-PG"}},
        "hostOrHostGroupSelection": {"useExistingHostParam": {"hostId": "h1"}},
        "storageGroupSelection": {"useExistingStorageGroupParam": {"storageGroupId": "parent"}}})),
    );
    assert_eq!(s, 201);
    assert_eq!(
        sim.rest("DELETE", &format!("{}/storagegroup/parent", sp(100)), None)
            .0,
        400
    );
    assert_eq!(
        sim.rest("DELETE", &format!("{}/host/h1", sp(100)), None).0,
        400
    );
}

#[test]
fn auth_malformed_json_and_body_limit() {
    let sim = Sim::start_with(&["--max-body-bytes", "1000"]);
    let c = reqwest::blocking::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let url = format!(
        "{}/univmax/restapi/100/sloprovisioning/symmetrix/{ARRAY}/storagegroup",
        sim.url
    );
    let r = c.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c.get(&url).basic_auth("smc", Some("nope")).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .post(&url)
        .basic_auth("smc", Some("smc"))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.json::<Value>().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let r = c
        .post(&url)
        .basic_auth("smc", Some("smc"))
        .body(vec![b' '; 5000])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
}

#[test]
fn iterators_page_past_a_thousand_results() {
    let sim = Sim::start();
    make_sg(&sim, "big", Some("Bronze"));
    let (s, b) = add_volumes(&sim, "big", 1500, "bulk");
    assert_eq!(s, 200, "{b}");
    let (_, l) = sim.rest(
        "GET",
        &format!("{}/volume?storageGroupId=big", sp(100)),
        None,
    );
    assert_eq!(l["count"], 1500);
    assert_eq!(l["resultList"]["result"].as_array().unwrap().len(), 1000);
    assert_eq!(
        (
            l["resultList"]["from"].as_u64(),
            l["resultList"]["to"].as_u64()
        ),
        (Some(1), Some(1000))
    );
    let id = l["id"].as_str().unwrap();
    let (s, p) = sim.rest(
        "GET",
        &format!("/common/Iterator/{id}/page?from=1001&to=1500"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(p["result"].as_array().unwrap().len(), 500);
    assert_eq!(
        (p["from"].as_u64(), p["to"].as_u64()),
        (Some(1001), Some(1500))
    );
    assert_eq!(
        sim.rest("DELETE", &format!("/common/Iterator/{id}"), None)
            .0,
        204
    );
    assert_eq!(
        sim.rest(
            "GET",
            &format!("/common/Iterator/{id}/page?from=1&to=10"),
            None
        )
        .0,
        404
    );
}

#[test]
fn faults_latency_errors_and_failing_jobs() {
    let sim = Sim::start();
    sim.set_faults(json!({"error_rate": 1.0, "seed": 7}));
    assert_eq!(sim.rest("GET", &format!("{}/srp", sp(100)), None).0, 503);
    sim.set_faults(json!({"rules": [{"method": "POST", "path_contains": "/storagegroup", "status": 500,
        "message": "A problem occurred modifying the storage group resource: Unable to acquire the Symmetrix device lock", "times": 1}]}));
    let (s, v) = sim.rest(
        "POST",
        &format!("{}/storagegroup", sp(100)),
        Some(json!({"srpId": "SRP_1", "storageGroupId": "x"})),
    );
    assert_eq!(s, 500);
    assert!(v["message"].as_str().unwrap().contains("device lock"));
    assert_eq!(
        sim.rest(
            "POST",
            &format!("{}/storagegroup", sp(100)),
            Some(json!({"srpId": "SRP_1", "storageGroupId": "x"}))
        )
        .0,
        201,
        "times: 1"
    );
    sim.set_faults(json!({"job_failure_rate": 1.0}));
    let (s, job) = sim.rest("PUT", &format!("{}/storagegroup/x", sp(100)), Some(json!({"executionOption": "ASYNCHRONOUS",
        "editStorageGroupActionParam": {"expandStorageGroupParam": {"addVolumeParam": {"volumeAttributes": [{"num_of_vols": 1, "volume_size": "1", "capacityUnit": "GB"}]}}}})));
    assert_eq!(s, 202);
    std::thread::sleep(std::time::Duration::from_millis(120));
    let (_, j) = sim.rest(
        "GET",
        &format!("/100/system/job/{}", job["jobId"].as_str().unwrap()),
        None,
    );
    assert_eq!(j["status"], "FAILED");
    assert!(sim.volumes().is_empty(), "a failed job changes nothing");
    sim.set_faults(json!({}));
    let m = sim.metrics();
    assert!(
        m["requests"]["POST /{ver}/sloprovisioning/symmetrix/{array}/storagegroup"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(m["status"]["503"].as_u64().unwrap() >= 1);
}

#[test]
fn every_acknowledged_change_survives_sigkill() {
    let sim = Sim::start();
    make_sg(&sim, "burst", None);
    let url = sim.url.clone();
    let acked_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = acked_count.clone();
    let writer = std::thread::spawn(move || {
        let c = reqwest::blocking::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let mut acked = Vec::new();
        for i in 0..10_000 {
            let r = c
                .put(format!("{url}/univmax/restapi/100/sloprovisioning/symmetrix/{ARRAY}/storagegroup/burst"))
                .basic_auth("smc", Some("smc"))
                .json(&json!({"editStorageGroupActionParam": {"expandStorageGroupParam": {"addVolumeParam": {"volumeAttributes": [
                    {"num_of_vols": 1, "volume_size": "1", "capacityUnit": "GB",
                     "volumeIdentifier": {"identifier_name": format!("burst-{i}"), "volumeIdentifierChoice": "identifier_name"}}]}}}}))
                .send();
            match r {
                Ok(r) if r.status().is_success() => {
                    acked.push(format!("burst-{i}"));
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                _ => break, // the server died mid-request: not acknowledged
            }
        }
        acked
    });
    // kill mid-burst, once enough changes were acknowledged to mean something
    let start = std::time::Instant::now();
    while acked_count.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the burst made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let dir = sim.kill();
    let acked = writer.join().unwrap();
    assert!(
        acked.len() > 5,
        "the burst made too few changes to mean anything: {}",
        acked.len()
    );
    let sim = Sim::start_in(dir, &[]);
    let have: std::collections::HashSet<String> =
        sim.volumes().into_iter().map(|(_, i)| i).collect();
    for a in &acked {
        assert!(
            have.contains(a),
            "acknowledged {a} was lost ({} acknowledged, {} present)",
            acked.len(),
            have.len()
        );
    }
    assert!(
        have.len() <= acked.len() + 1,
        "at most the in-flight change may also have landed"
    );
}

#[test]
fn identifier_lookups_can_lag_behind_creates() {
    let sim = Sim::start_with(&["--lookup-lag-ms", "2000"]);
    make_sg(&sim, "lag", None);
    let (s, _) = add_volumes(&sim, "lag", 1, "OS-fresh");
    assert_eq!(s, 200);
    let q = format!("{}/volume?volume_identifier=OS-fresh", sp(100));
    assert_eq!(
        sim.rest("GET", &q, None).1["count"],
        0,
        "not yet visible by identifier"
    );
    assert_eq!(
        sim.rest(
            "GET",
            &format!("{}/volume?storageGroupId=lag", sp(100)),
            None
        )
        .1["count"],
        1,
        "other lookups see it"
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(sim.rest("GET", &q, None).1["count"], 1);
}

#[test]
fn host_io_limits_and_compression_as_the_array_keeps_them() {
    let sim = Sim::start();
    // made with limits and without compression, in one request (the API's own example)
    let body = json!({"srpId": "SRP_1", "storageGroupId": "q", "emulation": "FBA", "create_empty_storage_group": "true",
        "sloBasedStorageGroupParam": [{"sloId": "Diamond", "workloadSelection": "None", "noCompression": true,
            "setHostIOLimitsParam": {"host_io_limit_mb_sec": "100"},
            "volumeAttributes": [{"num_of_vols": 0, "volume_size": "0", "capacityUnit": "GB"}]}]});
    let (s, b) = sim.rest("POST", &format!("{}/storagegroup", sp(100)), Some(body));
    assert_eq!(s, 201, "{b}");
    for ver in [84, 92, 100] {
        let (_, g) = sim.rest("GET", &format!("{}/storagegroup/q", sp(ver)), None);
        assert_eq!(
            g["hostIOLimit"],
            json!({"host_io_limit_mb_sec": "100", "host_io_limit_io_sec": "NOLIMIT", "dynamicDistribution": "Never"}),
            "{ver}"
        );
        assert_eq!(g["compression"], json!(false));
    }
    let put = |action: Value| {
        sim.rest(
            "PUT",
            &format!("{}/storagegroup/q", sp(100)),
            Some(json!({"editStorageGroupActionParam": action})),
        )
    };
    // ranges and the IO/s step are refused with 400
    for bad in [
        json!({"host_io_limit_io_sec": "99"}),
        json!({"host_io_limit_io_sec": "150"}),
        json!({"host_io_limit_mb_sec": "0"}),
        json!({"host_io_limit_mb_sec": "100001"}),
        json!({"host_io_limit_io_sec": "500", "dynamicDistribution": "Sometimes"}),
    ] {
        let (s, b) = put(json!({"setHostIOLimitsParam": bad}));
        assert_eq!(s, 400, "{bad}: {b}");
    }
    // a value left out keeps the group's
    let (s, b) = put(
        json!({"setHostIOLimitsParam": {"host_io_limit_io_sec": 500, "dynamicDistribution": "OnFailure"}}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["hostIOLimit"],
        json!({"host_io_limit_mb_sec": "100", "host_io_limit_io_sec": "500", "dynamicDistribution": "OnFailure"})
    );
    // NOLIMIT for both removes the limit
    let (s, b) = put(
        json!({"setHostIOLimitsParam": {"host_io_limit_io_sec": "NOLIMIT", "host_io_limit_mb_sec": "NOLIMIT", "dynamicDistribution": "Never"}}),
    );
    assert_eq!(s, 200, "{b}");
    assert!(b.get("hostIOLimit").is_none(), "{b}");
    let (s, b) = put(json!({"editCompressionParam": {"compression": true}}));
    assert_eq!((s, &b["compression"]), (200, &json!(true)), "{b}");
}

#[test]
fn srdf_groups_pairs_and_their_states() {
    let sim = Sim::start_with(&["--copy-ms", "400"]);
    let remote = "000197800124";
    let (s, g) = sim.rest(
        "GET",
        &format!("/100/replication/symmetrix/{ARRAY}/rdf_group"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(
        g["rdfGroupID"],
        json!([{"rdfgNumber": 1, "label": "os-rdf", "remote_symmetrix_id": remote, "group_type": "Dynamic"}])
    );
    let (_, g) = sim.rest(
        "GET",
        &format!("/100/replication/symmetrix/{ARRAY}/rdf_group/1"),
        None,
    );
    assert_eq!(
        (
            g["remoteSymmetrix"].as_str(),
            g["remoteRdfgNumber"].as_u64()
        ),
        (Some(remote), Some(1))
    );
    // a volume on each array
    let mk = |arr: &str| {
        let body = json!({"srpId": "SRP_1", "storageGroupId": "r", "emulation": "FBA",
            "sloBasedStorageGroupParam": [{"sloId": "Diamond", "volumeAttributes": [{"num_of_vols": 1, "volume_size": "1", "capacityUnit": "GB",
                "volumeIdentifier": {"identifier_name": "OS-r", "volumeIdentifierChoice": "identifier_name"}}]}]});
        let (s, b) = sim.rest(
            "POST",
            &format!("/100/sloprovisioning/symmetrix/{arr}/storagegroup"),
            Some(body),
        );
        assert_eq!(s, 201, "{b}");
    };
    mk(ARRAY);
    mk(remote);
    let pairs = format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume");
    let body = json!({"deviceNameListSource": [{"name": "00100"}], "deviceNameListTarget": [{"name": "00100"}],
        "replicationMode": "Synchronous", "establish": "true", "rdfType": "RDF1"});
    let (s, b) = sim.rest("POST", &pairs, Some(body.clone()));
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["devicePair"][0]["rdfpairState"], "SyncInProg");
    // twice is refused: the devices are paired
    let (s, b) = sim.rest("POST", &pairs, Some(body));
    assert_eq!(s, 400, "{b}");
    let pair = |arr: &str| {
        sim.rest(
            "GET",
            &format!("/100/replication/symmetrix/{arr}/rdf_group/1/volume/00100"),
            None,
        )
        .1
    };
    let p = pair(ARRAY);
    assert_eq!(
        (
            p["remoteSymmetrixId"].as_str(),
            p["remoteVolumeName"].as_str()
        ),
        (Some(remote), Some("00100"))
    );
    assert_eq!(p["localVolumeState"], "Ready");
    assert_eq!(pair(remote)["localVolumeState"], "Write Disabled");
    let (_, v) = sim.rest("GET", &format!("{}/volume/00100", sp(100)), None);
    assert_eq!(
        v["rdfGroupId"],
        json!([{"rdf_group_number": 1, "label": "os-rdf"}])
    );
    let (_, v) = sim.rest(
        "GET",
        &format!("/private/100/sloprovisioning/symmetrix/{ARRAY}/volume?volumeId=00100"),
        None,
    );
    assert_eq!(
        v["resultList"]["result"][0]["rdfInfo"]["RDF"],
        json!(true),
        "{v}"
    );
    // the volume cannot go while paired
    let (s, b) = sim.rest(
        "DELETE",
        &format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume/00100"),
        None,
    );
    assert_eq!(s, 400, "{b}");
    assert!(b["message"].as_str().unwrap().contains("split"), "{b}");
    // failover once synchronized (a job), then failback
    let act = |a: &str| {
        sim.rest(
            "PUT",
            &format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume/00100"),
            Some(json!({"action": a, "executionOption": "SYNCHRONOUS"})),
        )
    };
    let (s, _) = act("Failover");
    assert_eq!(s, 400, "no failover while SyncInProg");
    std::thread::sleep(std::time::Duration::from_millis(450));
    assert_eq!(pair(ARRAY)["rdfpairState"], "Synchronized");
    let (s, b) = act("Failover");
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["rdfpairState"].as_str(), b["localVolumeState"].as_str()),
        (Some("Failed Over"), Some("Write Disabled"))
    );
    assert_eq!(pair(remote)["localVolumeState"], "Ready");
    let (s, b) = act("Failback");
    assert_eq!(s, 200, "{b}");
    let (s, b) = act("Split");
    assert_eq!((s, b["rdfpairState"].as_str()), (200, Some("Split")), "{b}");
    let (s, b) = sim.rest("DELETE", &format!("/private/100/replication/symmetrix/{ARRAY}/rdf_group/1/volume/00100?half=false&force=true&symforce=false&star=false&bypass=false"), None);
    assert_eq!(s, 204, "{b}");
    let (_, v) = sim.rest("GET", &format!("{}/volume/00100", sp(100)), None);
    assert!(v.get("rdfGroupId").is_none(), "{v}");
}
