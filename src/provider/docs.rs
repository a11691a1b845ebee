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

/// One attribute the way the registry's generator (tfplugindocs) writes
/// it: `- `name` (Type[, Sensitive][, Deprecated]) Description`.
fn attr_line(a: &Attribute) -> String {
    let mut kind = ty_name(&a.value_type());
    if a.sensitive {
        kind.push_str(", Sensitive");
    }
    if a.deprecated.is_some() {
        kind.push_str(", Deprecated");
    }
    let mut notes = String::new();
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
    format!("- `{}` ({kind}) {}{notes}\n", a.name, a.description.trim())
}

/// Chooses the attributes of one schema section.
type Pick = fn(&Attribute) -> bool;

/// A block's schema as tfplugindocs lays it out: Required, Optional and
/// Read-Only sections, each sorted by name, nested blocks among the
/// optional ones and their own schemas after, anchored `nestedblock--<path>`.
fn render_block(out: &mut String, b: &Block, top: bool, path: &str) {
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, pick) in groups.iter() {
        let mut lines: Vec<(String, String)> = b
            .attributes
            .iter()
            .filter(|a| pick(a))
            .map(|a| (a.name.clone(), attr_line(a)))
            .collect();
        if *title == "Optional" {
            for nb in &b.blocks {
                let kind = match nb.nesting {
                    Nesting::Single => "Block".to_string(),
                    Nesting::List => format!("Block List, Max: {}", nb.max_items),
                };
                let anchor = format!("{path}{}", nb.name);
                lines.push((
                    nb.name.clone(),
                    format!(
                        "- `{}` ({kind}) {} (see [below for nested schema](#nestedblock--{anchor}))\n",
                        nb.name,
                        nb.block.description.trim(),
                    ),
                ));
            }
        }
        if lines.is_empty() {
            continue;
        }
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        if top {
            let _ = writeln!(out, "### {title}\n");
        } else {
            let _ = writeln!(out, "{title}:\n");
        }
        for (_, l) in lines {
            out.push_str(&l);
        }
        out.push('\n');
    }
    let mut blocks: Vec<_> = b.blocks.iter().collect();
    blocks.sort_by(|a, b| a.name.cmp(&b.name));
    for nb in blocks {
        let anchor = format!("{path}{}", nb.name);
        let _ = writeln!(
            out,
            "<a id=\"nestedblock--{anchor}\"></a>\n### Nested Schema for `{}`\n",
            anchor.replace("--", ".")
        );
        render_block(out, &nb.block, false, &format!("{anchor}--"));
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
    render_block(&mut idx, &ps.block, true, "");
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
        render_block(&mut d, &s.block, true, "");
        let imp = example(
            root,
            &format!("examples/resources/{name}/import.sh"),
            "shell",
        );
        let imp_block = example(
            root,
            &format!("examples/resources/{name}/import-by-string-id.tf"),
            "terraform",
        );
        if !imp.is_empty() || !imp_block.is_empty() {
            d.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
            if !imp_block.is_empty() {
                d.push_str("In Terraform v1.5.0 and later, the [`import` block](https://developer.hashicorp.com/terraform/language/import) can be used with the `id` attribute, for example:\n\n");
                d.push_str(&imp_block);
                d.push('\n');
            }
            if !imp.is_empty() {
                d.push_str("The [`terraform import` command](https://developer.hashicorp.com/terraform/cli/commands/import) can be used, for example:\n\n");
                d.push_str(&imp);
            }
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
        render_block(&mut d, &s.block, true, "");
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
        render_block(&mut d, &s.block, true, "");
        pages.push((
            format!("docs/ephemeral-resources/{short}.md"),
            d.trim_end().to_string() + "\n",
        ));
    }
    pages
}
