//! Acceptance tests for `vmax_volume`: the real `terraform` against `vmax-sim`.

mod support;
use serde_json::json;
use support::{Sim, Tf};

fn volume(name: &str, res: &str, size: i64, extra: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name    = \"{name}\"\n  size_gb = {size}\n{extra}}}\n"
    )
}

#[test]
fn lifecycle_with_each_kind_of_policy() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = |size: i64, name: &str| {
        format!(
            "{}{}{}{}",
            sim.provider_block(),
            volume(
                name,
                "full",
                size,
                &format!(
                    "  service_level = \"Diamond\"\n{}",
                    support::workload_line()
                )
            ),
            volume("slo-only", "slo", 1, "  service_level = \"Gold\"\n"),
            volume("no-slo", "none", 2, "  service_level = \"None\"\n"),
        )
    };
    tf.write(&cfg(10, "db1"));
    tf.apply();
    // every request names Terraform's version and ours
    let reqs = sim.hook_get("/sim/requests");
    let agents: std::collections::BTreeSet<&str> = reqs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["user_agent"].as_str())
        .collect();
    let ours = concat!("terraform-provider-vmax/", env!("CARGO_PKG_VERSION"));
    assert!(
        !agents.is_empty()
            && agents
                .iter()
                .all(|a| a.starts_with("Terraform/1.") && a.ends_with(ours)),
        "{agents:?}"
    );
    let full = tf.resource("vmax_volume.full");
    assert_eq!(
        full["storage_group"],
        support::group_with_workload("Diamond")
    );
    assert_eq!(full["volume_identifier"], "OS-db1");
    assert_eq!(
        full["pool_name"],
        format!(
            "Diamond+{}+SRP_1+000197800123",
            support::workload().unwrap_or("None")
        )
    );
    assert_eq!(full["srp"], "SRP_1");
    assert_eq!(full["size_gb"], 10);
    assert_eq!(full["id"].as_str().unwrap().len(), 5);
    assert!(
        full["wwn"]
            .as_str()
            .unwrap()
            .starts_with("60000970000197800123")
    );
    assert_eq!(
        tf.resource("vmax_volume.slo")["storage_group"],
        "OS-SRP_1-Gold-SG"
    );
    assert_eq!(
        tf.resource("vmax_volume.none")["storage_group"],
        "OS-no_SLO-SG"
    );
    assert_eq!(tf.resource("vmax_volume.none")["service_level"], "None");
    tf.assert_empty_plan();
    let id = full["id"].clone();

    // extend and rename in place: same device
    tf.write(&cfg(20, "db1-renamed"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        plan.contains("update in-place") && !plan.contains("must be replaced"),
        "{plan}"
    );
    // what an update keeps (device id, WWN, array...) stays known in the plan
    assert!(!plan.contains("-> (known after apply)"), "{plan}");
    tf.apply();
    let full = tf.resource("vmax_volume.full");
    assert_eq!(full["id"], id);
    assert_eq!(full["size_gb"], 20);
    assert_eq!(full["volume_identifier"], "OS-db1-renamed");
    let vol = &sim.array()["volumes"][id.as_str().unwrap()];
    assert_eq!(vol["cap_mb"], 20 * 1024);
    assert_eq!(vol["identifier"], "OS-db1-renamed");
    tf.assert_empty_plan();

    // destroy leaves no volume and no empty storage group
    tf.destroy();
    assert!(sim.volumes().is_empty(), "{:?}", sim.volumes());
    assert!(
        sim.storage_groups().is_empty(),
        "{:?}",
        sim.storage_groups()
    );
}

#[test]
fn shrink_is_refused_at_plan_time_with_the_seed_message() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("v", "a", 10, "")
    ));
    tf.apply();
    let before = sim.metrics()["status"].clone();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("v", "a", 5, "")
    ));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("Your original size: 10 GB is greater than: 5 GB. Only Extend is supported"),
        "{out}"
    );
    assert!(out.contains("size_gb"), "{out}");
    let _ = before;
    assert_eq!(tf.resource("vmax_volume.a")["size_gb"], 10);
}

#[test]
fn invalid_service_level_lists_valid_values() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("v", "a", 1, "  service_level = \"Titanium\"\n")
    ));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(out.contains("Titanium"), "{out}");
    for slo in [
        "Bronze",
        "Diamond",
        "Gold",
        "Optimized",
        "Platinum",
        "Silver",
    ] {
        assert!(out.contains(slo), "{slo} missing from: {out}");
    }
    assert!(out.contains("service_level"), "{out}");
    // a workload without a service level is refused before any call
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume(
            "v",
            "a",
            1,
            "  service_level = \"None\"\n  workload = \"DSS\"\n"
        )
    ));
    let out = tf.fails(&["validate", "-no-color"]);
    assert!(out.contains("Workload needs a service level"), "{out}");
    assert!(sim.volumes().is_empty());
}

#[test]
fn volume_deleted_outside_terraform_is_recreated() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("gone", "a", 3, "")
    ));
    tf.apply();
    let id = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    let (s, _) = sim.rest(
        "PUT",
        &format!("{sp}/storagegroup/OS-SRP_1-Optimized-SG"),
        Some(json!({"editStorageGroupActionParam": {"removeVolumeParam": {"volumeId": [id]}}})),
    );
    assert_eq!(s, 200);
    let (s, _) = sim.rest("DELETE", &format!("{sp}/volume/{id}"), None);
    assert_eq!(s, 204);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("will be created"), "{plan}");
    tf.apply();
    let new_id = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_id, id);
    tf.assert_empty_plan();
}

#[test]
fn wrong_password_gives_a_clear_provider_error() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = sim.provider_block().replace(
        "password    = \"smc\"",
        "password    = \"N0t-The-Right-0ne\"",
    );
    tf.write(&format!("{cfg}{}", volume("v", "a", 1, "")));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(out.contains("Cannot connect to Unisphere"), "{out}");
    assert!(out.contains("401") && out.contains("password"), "{out}");
    assert!(
        !out.contains("N0t-The-Right-0ne"),
        "the password must not be echoed: {out}"
    );
}

#[test]
fn unknown_array_and_untrusted_certificate_are_explained() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let cfg = sim.provider_block().replace(support::ARRAY, "000111222333");
    tf.write(&format!("{cfg}{}", volume("v", "a", 1, "")));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("000111222333") && out.contains("000197800123"),
        "{out}"
    );
    let cfg = sim
        .provider_block()
        .replace("insecure    = true", "insecure    = false");
    tf.write(&format!("{cfg}{}", volume("v", "a", 1, "")));
    let out = tf.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("not trusted") && out.contains("ca_cert_file"),
        "{out}"
    );
    // trusting the simulator's own certificate works
    let pem = sim.dir.path().join("vmax-sim-ca.pem");
    let cfg = sim
        .provider_block()
        .replace(
            "insecure    = true",
            &format!("ca_cert_file = \"{}\"", pem.display()),
        )
        .replace("127.0.0.1", "localhost");
    tf.write(&format!("{cfg}{}", volume("v", "a", 1, "")));
    tf.apply();
}

#[test]
fn debug_log_shows_provider_lines_but_never_the_password() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start_with(&["--password", "Sup3r-S3cret"]);
    let tf = Tf::new().env("TF_LOG", "DEBUG");
    let cfg = sim
        .provider_block()
        .replace("password    = \"smc\"", "password    = \"Sup3r-S3cret\"");
    tf.write(&format!("{cfg}{}", volume("v", "a", 1, "")));
    let o = tf.run(&["apply", "-auto-approve", "-no-color"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("provider.terraform-provider-vmax") && text.contains("unisphere request"),
        "no provider log lines in:\n{}",
        &text[..text.len().min(3000)]
    );
    assert!(
        !text.contains("Sup3r-S3cret"),
        "password leaked into the log"
    );
    // the basic-auth header value must not appear either
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode("smc:Sup3r-S3cret");
    assert!(!text.contains(&b64));
}

#[test]
fn import_manages_an_existing_volume() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    // a volume made on the array by someone else, in their own group
    let dev = sim.make_foreign_volume("legacy_sg", "Gold", 4, "legacy");
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("legacy", "a", 4, "  service_level = \"Gold\"\n")
    ));
    tf.ok(&["import", "-no-color", "vmax_volume.a", &dev]);
    let v = tf.resource("vmax_volume.a");
    assert_eq!(v["size_gb"], 4);
    assert_eq!(v["service_level"], "Gold");
    assert_eq!(v["name"], "legacy");
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("\"legacy\" -> \"OS-legacy\"") || plan.contains("-> \"OS-legacy\""),
        "{plan}"
    );
    assert!(plan.contains("-> \"OS-SRP_1-Gold-SG\""), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    tf.apply();
    tf.assert_empty_plan();
    let vol = &sim.array()["volumes"][&dev];
    assert_eq!(vol["identifier"], "OS-legacy");
    let sp = format!("/100/sloprovisioning/symmetrix/{}", support::ARRAY);
    let groups = sim.rest("GET", &format!("{sp}/volume/{dev}"), None).1["storageGroupId"].clone();
    assert_eq!(groups, json!(["OS-SRP_1-Gold-SG"]));

    // refusals: a missing device
    let tf2 = Tf::new();
    tf2.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("x", "b", 1, "")
    ));
    let out = tf2.fails(&["import", "-no-color", "vmax_volume.b", "0FFFF"]);
    assert!(out.contains("does not exist"), "{out}");
}

#[test]
fn unmanage_leaves_the_volume_under_its_bare_name() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("keepme", "a", 2, "  deletion_policy = \"unmanage\"\n")
    ));
    tf.apply();
    let id = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    tf.destroy();
    let vols = sim.volumes();
    assert_eq!(vols, vec![(id, "keepme".to_string())]);
}

#[test]
fn state_from_schema_version_0_is_upgraded() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("old", "a", 3, "")
    ));
    tf.apply();
    // rewrite the state as version 0 of the schema wrote it
    let path = tf.dir.path().join("terraform.tfstate");
    let mut st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let inst = &mut st["resources"][0]["instances"][0];
    inst["schema_version"] = json!(0);
    let attrs = inst["attributes"].as_object_mut().unwrap();
    let size = attrs.remove("size_gb").unwrap();
    attrs.insert("size".into(), size);
    attrs.remove("deletion_policy");
    std::fs::write(&path, serde_json::to_string(&st).unwrap()).unwrap();
    tf.assert_empty_plan();
    tf.apply();
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(st["resources"][0]["instances"][0]["schema_version"], 1);
    assert_eq!(
        st["resources"][0]["instances"][0]["attributes"]["size_gb"],
        3
    );
}

#[test]
fn failed_create_leaves_nothing_behind() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    sim.set_faults(json!({"rules": [{"method": "PUT", "path_contains": "storagegroup/OS-SRP_1-Silver-SG", "fail_job": true, "message": "simulated array failure"}]}));
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("doomed", "a", 1, "  service_level = \"Silver\"\n")
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(out.contains("simulated array failure"), "{out}");
    assert!(sim.volumes().is_empty());
    assert!(
        sim.storage_groups().is_empty(),
        "emptied group must be removed: {:?}",
        sim.storage_groups()
    );
    let st = tf.show();
    assert!(
        st["values"].is_null() || st["values"]["root_module"]["resources"].is_null(),
        "{st}"
    );
}

#[test]
fn retype_diamond_gold_none_keeps_the_device() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    let mut id = None;
    for (slo, wl, group) in [
        (
            "Diamond",
            support::workload_line(),
            support::group_with_workload("Diamond"),
        ),
        ("Gold", String::new(), "OS-SRP_1-Gold-SG".to_string()),
        ("None", String::new(), "OS-no_SLO-SG".to_string()),
    ] {
        tf.write(&format!(
            "{}{}",
            sim.provider_block(),
            volume("rt", "a", 2, &format!("  service_level = \"{slo}\"\n{wl}"))
        ));
        let (code, plan) = tf.plan();
        assert!(code == 2 || id.is_none(), "{plan}");
        assert!(!plan.contains("must be replaced"), "{plan}");
        tf.apply();
        let v = tf.resource("vmax_volume.a");
        assert_eq!(v["storage_group"], group.as_str());
        if let Some(prev) = &id {
            assert_eq!(&v["id"], prev, "retype keeps the device");
        }
        id = Some(v["id"].clone());
        // the old group was deleted when emptied: only the current one exists
        assert_eq!(sim.storage_groups(), vec![group.clone()]);
        tf.assert_empty_plan();
    }
}

#[test]
fn import_refuses_a_volume_in_a_masking_view() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!(
        "{}{}resource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.a.id\n  host = \"h1\"\n  initiator = \"iqn.1993-08.org.debian:01:h1\"\n}}\n",
        sim.provider_block(),
        volume("exported", "a", 1, "")
    ));
    tf.apply();
    let dev = tf.resource("vmax_volume.a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tf2 = Tf::new();
    tf2.write(&format!(
        "{}{}",
        sim.provider_block(),
        volume("exported", "b", 1, "")
    ));
    let out = tf2.fails(&["import", "-no-color", "vmax_volume.b", &dev]);
    assert!(
        out.contains("is in masking view OS-h1-I-OS-iscsi-PG-MV")
            && out.contains("terraform state mv"),
        "{out}"
    );
}

#[test]
fn import_block_with_generated_configuration() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let dev = sim.make_foreign_volume("their_sg", "Silver", 3, "theirs");
    let tf = Tf::new();
    tf.write(&format!(
        "{}import {{\n  to = vmax_volume.theirs\n  id = \"{dev}\"\n}}\n",
        sim.provider_block()
    ));
    tf.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(tf.dir.path().join("generated.tf")).unwrap();
    assert!(
        generated.contains("resource \"vmax_volume\" \"theirs\""),
        "{generated}"
    );
    // the generated configuration keeps the data on destroy
    assert!(
        generated.contains("deletion_policy") && generated.contains("\"unmanage\""),
        "{generated}"
    );
    tf.ok(&["validate", "-no-color"]);
    // the first apply manages it: renamed to OS-theirs, moved to its default group
    tf.apply();
    assert_eq!(sim.array()["volumes"][&dev]["identifier"], "OS-theirs");
    tf.assert_empty_plan();
    assert_eq!(
        tf.resource("vmax_volume.theirs")["storage_group"],
        "OS-SRP_1-Silver-SG"
    );
    // and destroy leaves it, under its own name again
    tf.destroy();
    assert_eq!(sim.array()["volumes"][&dev]["identifier"], "theirs");
}

#[test]
fn names_built_from_count_index_work() {
    if !support::acc() {
        return;
    }
    // "v-${count.index}" reaches the provider as a refined unknown during validation
    let sim = Sim::start();
    let tf = Tf::new();
    tf.write(&format!("{}resource \"vmax_volume\" \"many\" {{\n  count = 3\n  name = \"v-${{count.index}}\"\n  size_gb = 1\n}}\n", sim.provider_block()));
    tf.apply();
    let mut names: Vec<String> = sim.volumes().into_iter().map(|(_, i)| i).collect();
    names.sort();
    assert_eq!(names, vec!["OS-v-0", "OS-v-1", "OS-v-2"]);
    tf.assert_empty_plan();
}

#[test]
fn a_provider_setting_unknown_at_plan_time_plans_with_unknowns() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let tf = Tf::new();
    // the endpoint comes from a resource that does not exist yet
    let block = sim.provider_block().replace(
        &format!("endpoint    = \"{}\"", sim.url),
        "endpoint    = terraform_data.ep.output",
    );
    assert!(block.contains("terraform_data.ep.output"), "{block}");
    tf.write(&format!(
        "resource \"terraform_data\" \"ep\" {{\n  input = \"{}\"\n}}\n{block}{}",
        sim.url,
        volume("late", "v", 1, "")
    ));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("vmax_volume.v will be created"), "{plan}");
    assert!(
        plan.contains("Provider settings known only at apply") && plan.contains("endpoint"),
        "{plan}"
    );
    assert!(plan.contains("(known after apply)"), "{plan}");
    assert_eq!(sim.metrics()["total"], 0, "the plan asked the array");
    tf.apply();
    assert_eq!(sim.volumes().len(), 1);
    tf.assert_empty_plan();
    tf.destroy();
    sim.assert_clean();
}
