//! `vmax_volumes`, `vmax_storage_groups` and `vmax_hosts` through the real
//! `terraform`, including `import` blocks with `for_each` over a listing.

mod support;
use serde_json::{Value, json};
use support::{Sim, Tf};

fn output(tf: &Tf, name: &str) -> Value {
    serde_json::from_str(&tf.ok(&["output", "-json", name])).unwrap()
}

#[test]
fn listings_filter_and_feed_import_blocks() {
    if !support::acc() {
        return;
    }
    let sim = Sim::start();
    let a = sim.make_foreign_volume("legacy_sg", "Gold", 2, "legacy-a");
    let b = sim.make_foreign_volume("legacy_sg2", "Silver", 3, "legacy-b");
    sim.make_foreign_volume("other_sg", "Gold", 1, "unrelated");
    let tf = Tf::new();
    let base = format!(
        "{}resource \"vmax_volume\" \"mine\" {{\n  name = \"mine\"\n  size_gb = 1\n  service_level = \"Diamond\"\n}}\n\
resource \"vmax_iscsi_export\" \"e\" {{\n  volume_id = vmax_volume.mine.id\n  host = \"h1\"\n  initiator = \"iqn.1993-08.org.debian:01:h1\"\n}}\n",
        sim.provider_block()
    );
    tf.write(&base);
    tf.apply();
    let lookups = "\
data \"vmax_volumes\" \"legacy\" {\n  identifier_prefix = \"legacy-\"\n}\n\
data \"vmax_volumes\" \"re\" {\n  identifier_regex = \"^legacy-[b-z]$\"\n}\n\
data \"vmax_volumes\" \"managed\" {\n  managed_only = true\n}\n\
data \"vmax_volumes\" \"gold\" {\n  service_level = \"Gold\"\n}\n\
data \"vmax_storage_groups\" \"ours\" {\n  managed_only = true\n}\n\
data \"vmax_storage_groups\" \"legacy\" {\n  name_prefix = \"legacy_sg\"\n}\n\
data \"vmax_hosts\" \"h1\" {\n  initiator = \"iqn.1993-08.org.debian:01:h1\"\n}\n\
output \"legacy\" {\n  value = [for v in data.vmax_volumes.legacy.volumes : [v.id, v.identifier, v.size_gb, v.service_level, v.managed]]\n}\n\
output \"re\" {\n  value = [for v in data.vmax_volumes.re.volumes : v.id]\n}\n\
output \"managed\" {\n  value = [for v in data.vmax_volumes.managed.volumes : [v.name, v.masking_views]]\n}\n\
output \"gold\" {\n  value = length(data.vmax_volumes.gold.volumes)\n}\n\
output \"ours\" {\n  value = [for g in data.vmax_storage_groups.ours.storage_groups : g.name]\n}\n\
output \"legacy_groups\" {\n  value = [for g in data.vmax_storage_groups.legacy.storage_groups : [g.name, g.service_level, g.num_of_volumes]]\n}\n\
output \"hosts\" {\n  value = [for h in data.vmax_hosts.h1.hosts : [h.name, length(h.masking_views)]]\n}\n";
    tf.write(&format!("{base}{lookups}"));
    tf.apply();
    assert_eq!(
        output(&tf, "legacy"),
        json!([
            [a, "legacy-a", 2, "Gold", false],
            [b, "legacy-b", 3, "Silver", false]
        ])
    );
    assert_eq!(output(&tf, "re"), json!([b]));
    let managed = output(&tf, "managed");
    assert_eq!(managed.as_array().unwrap().len(), 1, "{managed}");
    assert_eq!(managed[0][0], "mine");
    assert_eq!(managed[0][1], json!(["OS-h1-I-OS-iscsi-PG-MV"]));
    assert_eq!(output(&tf, "gold"), json!(2));
    let ours = output(&tf, "ours");
    assert!(
        ours.as_array()
            .unwrap()
            .iter()
            .all(|n| n.as_str().unwrap().starts_with("OS-"))
            && ours
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == "OS-h1-I-OS-iscsi-PG-SG"),
        "{ours}"
    );
    assert_eq!(
        output(&tf, "legacy_groups"),
        json!([["legacy_sg", "Gold", 1], ["legacy_sg2", "Silver", 1]])
    );
    assert_eq!(output(&tf, "hosts"), json!([["OS-h1-I-IG", 1]]));

    // import blocks with for_each over the listing take the legacy volumes over
    let imports = "\
data \"vmax_volumes\" \"takeover\" {\n  identifier_regex = \"^(OS-)?legacy-\"\n}\n\
locals {\n  legacy = { for v in data.vmax_volumes.takeover.volumes : v.name => v }\n}\n\
import {\n  for_each = local.legacy\n  to       = vmax_volume.legacy[each.key]\n  id       = each.value.id\n}\n\
resource \"vmax_volume\" \"legacy\" {\n  for_each        = local.legacy\n  name            = each.key\n  size_gb         = each.value.size_gb\n  service_level   = each.value.service_level\n  deletion_policy = \"unmanage\"\n}\n";
    tf.write(&format!("{base}{lookups}{imports}"));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("2 to import"), "{plan}");
    tf.apply();
    assert_eq!(sim.array()["volumes"][&a]["identifier"], "OS-legacy-a");
    assert_eq!(
        tf.resource("vmax_volume.legacy[\"legacy-b\"]")["id"],
        b.as_str()
    );
    // the listing keys on the name, so the takeover is stable
    let (_, plan) = tf.plan();
    assert!(!plan.contains("# vmax_volume.legacy["), "{plan}");

    // a bad regular expression is refused with its attribute
    let bad = Tf::new();
    bad.write(&format!(
        "{}data \"vmax_volumes\" \"x\" {{\n  identifier_regex = \"(\"\n}}\n",
        sim.provider_block()
    ));
    let out = bad.fails(&["plan", "-no-color", "-input=false"]);
    assert!(
        out.contains("identifier_regex") && out.contains("regular expression"),
        "{out}"
    );
}
