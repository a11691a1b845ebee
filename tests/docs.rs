//! docs/ must match what the schema and examples/ render; `make docs`
//! (UPDATE_DOCS=1) rewrites them.

use std::path::Path;
use terraform_provider_vmax::provider::docs::render_all;

#[test]
fn docs_match_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var("UPDATE_DOCS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (rel, content) in render_all(root) {
        let path = root.join(&rel);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &content).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "docs are out of date with the schema: {stale:?}; run `make docs`"
    );
}

#[test]
fn every_resource_has_an_example_and_docs_name_every_attribute() {
    use terraform_provider_vmax::provider::VmaxProvider;
    use terraform_provider_vmax::tfplugin::Provider;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = render_all(root);
    for r in VmaxProvider::default().resources() {
        let ex = root.join(format!("examples/resources/{}/resource.tf", r.type_name()));
        assert!(ex.exists(), "missing {}", ex.display());
        let page = &pages
            .iter()
            .find(|(p, _)| {
                p.ends_with(&format!("{}.md", r.type_name().trim_start_matches("vmax_")))
            })
            .unwrap()
            .1;
        for a in r.schema().block.attributes {
            assert!(
                page.contains(&format!("`{}`", a.name)),
                "{} undocumented",
                a.name
            );
        }
    }
}
