//! Registry-style documentation rendered from the provider's own schema and
//! the files in `examples/`, so `docs/` cannot drift from the code: the
//! `docs` test compares, and `make docs` rewrites.

use super::VmaxProvider;
use crate::tfplugin::{Attribute, Block, Nesting, Provider, Ty};
use std::fmt::Write as _;
use std::path::Path;

fn ty_name(t: &Ty) -> String {
    match t {
        Ty::String => "String".into(),
        Ty::Number => "Number".into(),
        Ty::Bool => "Boolean".into(),
        Ty::List(e) => format!("List of {}", ty_name(e)),
        Ty::Set(e) => format!("Set of {}", ty_name(e)),
        Ty::Map(e) => format!("Map of {}", ty_name(e)),
        Ty::Object(_) => "Object".into(),
        Ty::Dynamic => "Dynamic".into(),
    }
}

fn attr_line(a: &Attribute) -> String {
    let mut notes = String::new();
    if a.sensitive {
        notes.push_str(" Sensitive.");
    }
    if a.force_new {
        notes.push_str(" Changing it forces a new resource.");
    }
    if a.write_only {
        notes.push_str(" Write-only (Terraform 1.11+): never stored in plan or state.");
    }
    for v in &a.validators {
        notes.push_str(&format!(" Must be {}.", v.describe()));
    }
    if let Some(m) = &a.deprecated {
        notes.push_str(&format!(" **Deprecated**: {m}"));
    }
    let ty = ty_name(&a.value_type());
    format!("- `{}` ({ty}) {}{notes}\n", a.name, a.description.trim())
}

/// Chooses the attributes of one schema section.
type Pick = fn(&Attribute) -> bool;

fn render_block(out: &mut String, b: &Block, heading: &str) {
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, pick) in groups.iter() {
        let attrs: Vec<&Attribute> = b.attributes.iter().filter(|a| pick(a)).collect();
        let blocks: Vec<_> = if *title == "Optional" {
            b.blocks.iter().collect()
        } else {
            vec![]
        };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading} {title}\n");
        for a in attrs {
            out.push_str(&attr_line(a));
        }
        for nb in blocks {
            let kind = match nb.nesting {
                Nesting::Single => "Block",
                Nesting::List => "Block List",
            };
            let _ = writeln!(
                out,
                "- `{}` ({kind}) {} See [below](#nested-schema-for-{}).",
                nb.name,
                nb.block.description.trim(),
                nb.name
            );
        }
        out.push('\n');
    }
    for nb in &b.blocks {
        let _ = writeln!(
            out,
            "<a id=\"nested-schema-for-{}\"></a>\n{heading} Nested Schema for `{}`\n",
            nb.name, nb.name
        );
        let sub = format!("{heading}#");
        let mut inner = String::new();
        render_block(&mut inner, &nb.block, &sub);
        out.push_str(&inner);
    }
}

fn example(root: &Path, rel: &str, lang: &str) -> String {
    match std::fs::read_to_string(root.join(rel)) {
        Ok(s) => format!("```{lang}\n{}\n```\n", s.trim_end()),
        Err(_) => String::new(),
    }
}

/// (path relative to the repository root, content) of every doc page.
pub fn render_all(root: &Path) -> Vec<(String, String)> {
    let p = VmaxProvider::default();
    let mut pages = Vec::new();

    let mut idx = String::from(
        "---\npage_title: \"vmax Provider\"\ndescription: |-\n  Manage Dell EMC VMAX / PowerMax block storage over iSCSI.\n---\n\n# vmax Provider\n\n",
    );
    let ps = p.schema();
    idx.push_str(ps.block.description.trim());
    idx.push_str("\n\nSettings left out of the provider block are read from the environment variables named below; a setting in the block always wins. The bundled simulator `vmax-sim` serves the same API (see the README).\n\n## Example Usage\n\n");
    idx.push_str(&example(root, "examples/provider/provider.tf", "terraform"));
    idx.push_str("\n## Schema\n\n");
    render_block(&mut idx, &ps.block, "###");
    pages.push((
        "docs/index.md".to_string(),
        idx.trim_end().to_string() + "\n",
    ));

    for r in p.resources() {
        let s = r.schema();
        let name = r.type_name();
        let short = name.trim_start_matches("vmax_");
        let mut d = format!(
            "---\npage_title: \"{name} Resource - vmax\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n# {name} (Resource)\n\n{}\n\n## Example Usage\n\n",
            s.block.description.lines().next().unwrap_or(""),
            s.block.description.trim()
        );
        d.push_str(&example(
            root,
            &format!("examples/resources/{name}/resource.tf"),
            "terraform",
        ));
        d.push_str("\n## Schema\n\n");
        render_block(&mut d, &s.block, "###");
        let imp = example(
            root,
            &format!("examples/resources/{name}/import.sh"),
            "shell",
        );
        if !imp.is_empty() {
            d.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
            d.push_str(&imp);
        }
        pages.push((
            format!("docs/resources/{short}.md"),
            d.trim_end().to_string() + "\n",
        ));
    }
    for ds in p.data_sources() {
        let s = ds.schema();
        let name = ds.type_name();
        let short = name.trim_start_matches("vmax_");
        let mut d = format!(
            "---\npage_title: \"{name} Data Source - vmax\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n# {name} (Data Source)\n\n{}\n\n## Example Usage\n\n",
            s.block.description.lines().next().unwrap_or(""),
            s.block.description.trim()
        );
        d.push_str(&example(
            root,
            &format!("examples/data-sources/{name}/data-source.tf"),
            "terraform",
        ));
        d.push_str("\n## Schema\n\n");
        render_block(&mut d, &s.block, "###");
        pages.push((
            format!("docs/data-sources/{short}.md"),
            d.trim_end().to_string() + "\n",
        ));
    }
    for e in p.ephemeral_resources() {
        let s = e.schema();
        let name = e.type_name();
        let short = name.trim_start_matches("vmax_");
        let mut d = format!(
            "---\npage_title: \"{name} Ephemeral Resource - vmax\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n# {name} (Ephemeral Resource)\n\n{}\n\n## Example Usage\n\n",
            s.block.description.lines().next().unwrap_or(""),
            s.block.description.trim()
        );
        d.push_str(&example(
            root,
            &format!("examples/ephemeral-resources/{name}/ephemeral-resource.tf"),
            "terraform",
        ));
        d.push_str("\n## Schema\n\n");
        render_block(&mut d, &s.block, "###");
        pages.push((
            format!("docs/ephemeral-resources/{short}.md"),
            d.trim_end().to_string() + "\n",
        ));
    }
    pages
}
