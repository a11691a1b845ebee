//! The tfplugin6 `Provider` service: decodes requests, calls the traits,
//! encodes answers. Planning rules shared by every resource live here:
//! defaults, unknown computed values on create, force-new paths.

use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as PbProvider;
use super::{
    AttrPath, Block, Ctx, DataSource, Diags, EphemeralResource, Nesting, Plan, Provider, Resource,
    Schema, Severity, Step, Ty, Value,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub struct Server<P: Provider> {
    provider: Arc<P>,
    resources: HashMap<&'static str, (Arc<dyn Resource>, Schema, Ty)>,
    data_sources: HashMap<&'static str, (Arc<dyn DataSource>, Schema, Ty)>,
    ephemeral: HashMap<&'static str, (Arc<dyn EphemeralResource>, Schema, Ty)>,
    provider_schema: Schema,
    /// Cancelled (and replaced) when Terraform calls StopProvider.
    cancel: Mutex<CancellationToken>,
}

impl<P: Provider> Server<P> {
    pub fn new(provider: P) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let s = r.schema();
                let t = s.block.ty();
                (r.type_name(), (r, s, t))
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let s = d.schema();
                let t = s.block.ty();
                (d.type_name(), (d, s, t))
            })
            .collect();
        let ephemeral = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| {
                let s = e.schema();
                let t = s.block.ty();
                (e.type_name(), (e, s, t))
            })
            .collect();
        Server {
            provider_schema: provider.schema(),
            provider: Arc::new(provider),
            resources,
            data_sources,
            ephemeral,
            cancel: Mutex::new(CancellationToken::new()),
        }
    }

    fn ctx(&self) -> Ctx {
        self.ctx_with(vec![])
    }

    fn ctx_with(&self, private: Vec<u8>) -> Ctx {
        Ctx::new(
            self.cancel.lock().map(|c| c.clone()).unwrap_or_default(),
            private,
        )
    }

    #[allow(clippy::result_large_err)]
    fn resource(&self, name: &str) -> Result<&(Arc<dyn Resource>, Schema, Ty), Status> {
        self.resources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {name}")))
    }
}

// ---- conversions -------------------------------------------------------------

pub fn schema_to_pb(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_pb(&s.block, s.version)),
    }
}

fn block_to_pb(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_to_pb).collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| pb::schema::NestedBlock {
                type_name: nb.name.clone(),
                block: Some(block_to_pb(&nb.block, 0)),
                nesting: match nb.nesting {
                    super::Nesting::Single => pb::schema::nested_block::NestingMode::Single as i32,
                    super::Nesting::List => pb::schema::nested_block::NestingMode::List as i32,
                },
                min_items: 0,
                // Terraform wants min == max (0) for single blocks
                max_items: if nb.nesting == super::Nesting::Single {
                    0
                } else {
                    nb.max_items
                },
            })
            .collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

fn attribute_to_pb(a: &super::Attribute) -> pb::schema::Attribute {
    use pb::schema::object::NestingMode as N;
    let kind = if a.plain_description {
        pb::StringKind::Plain
    } else {
        pb::StringKind::Markdown
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a
            .ty
            .as_ref()
            .map(|t| t.to_json().to_string().into_bytes())
            .unwrap_or_default(),
        nested_type: a.nested.as_ref().map(|n| pb::schema::Object {
            attributes: n.attributes.iter().map(attribute_to_pb).collect(),
            nesting: match n.nesting {
                super::NestedNesting::Single => N::Single,
                super::NestedNesting::List => N::List,
                super::NestedNesting::Set => N::Set,
                super::NestedNesting::Map => N::Map,
            } as i32,
            #[allow(deprecated)]
            min_items: 0,
            #[allow(deprecated)]
            max_items: 0,
        }),
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: kind as i32,
        deprecated: a.deprecated.is_some(),
        write_only: a.write_only,
    }
}

fn path_to_pb(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diags_to_pb(d: &Diags) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|x| pb::Diagnostic {
            severity: match x.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: x.summary.clone(),
            detail: x.detail.clone(),
            attribute: x.path.as_ref().map(path_to_pb),
        })
        .collect()
}

fn decode(dv: &Option<pb::DynamicValue>, ty: &Ty, diags: &mut Diags) -> Value {
    let Some(dv) = dv else {
        return Value::Null;
    };
    let r = if !dv.msgpack.is_empty() {
        Value::from_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        serde_json::from_slice(&dv.json)
            .map_err(|e| super::value::CodecError(e.to_string()))
            .and_then(|j| Value::from_json(&j, ty))
    } else {
        Ok(Value::Null)
    };
    r.unwrap_or_else(|e| {
        diags.error("Cannot decode value from Terraform", e.to_string());
        Value::Null
    })
}

fn encode(v: &Value, ty: &Ty, diags: &mut Diags) -> Option<pb::DynamicValue> {
    match v.to_msgpack(ty) {
        Ok(b) => Some(pb::DynamicValue {
            msgpack: b,
            json: vec![],
        }),
        Err(e) => {
            diags.error(
                "Cannot encode value for Terraform",
                format!("provider bug: {e}"),
            );
            None
        }
    }
}

/// The shared planning rules for create and update.
pub fn initial_plan(
    schema: &Schema,
    prior: Option<&Value>,
    proposed: &Value,
    config: &Value,
) -> Plan {
    let mut planned = proposed.clone();
    let mut requires_replace = Vec::new();
    // an update: something the configuration sets differs from the state
    let updating = prior.is_some_and(|p| changes_in_config(&schema.block, p, proposed, config));
    plan_block(
        &schema.block,
        prior,
        &mut planned,
        config,
        updating,
        &AttrPath(vec![]),
        &mut requires_replace,
    );
    Plan {
        prior: prior.cloned(),
        config: config.clone(),
        planned,
        requires_replace,
    }
}

/// Whether a configured value (or a nested block) differs from the state.
fn changes_in_config(b: &Block, prior: &Value, proposed: &Value, config: &Value) -> bool {
    b.attributes.iter().any(|a| {
        !a.write_only
            && !config.get(&a.name).is_null()
            && prior.get(&a.name) != proposed.get(&a.name)
    }) || b
        .blocks
        .iter()
        .any(|nb| prior.get(&nb.name) != proposed.get(&nb.name))
}

/// The shared planning rules for one block, nested blocks included:
/// defaults where the configuration is silent, unknown computed values on
/// create and, on update, for computed values the resource does not keep
/// ([`super::Attribute::keep_state`]); force-new paths.
fn plan_block(
    b: &Block,
    prior: Option<&Value>,
    planned: &mut Value,
    config: &Value,
    updating: bool,
    at: &AttrPath,
    requires_replace: &mut Vec<AttrPath>,
) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for a in &b.attributes {
        let in_config = !config.get(&a.name).is_null();
        if !in_config {
            if let Some(d) = &a.default {
                planned.set_attr(&a.name, d.clone());
            } else if a.computed && (prior.is_none() || (updating && !a.keep_state)) {
                planned.set_attr(&a.name, Value::Unknown);
            }
        }
        if a.force_new
            && let Some(p) = prior
            && p.get(&a.name) != planned.get(&a.name)
        {
            requires_replace.push(at.clone().then_attr(&a.name));
        }
    }
    for nb in &b.blocks {
        let path = at.clone().then_attr(&nb.name);
        match (nb.nesting, planned.get(&nb.name).clone()) {
            (Nesting::Single, mut v @ Value::Object(_)) => {
                let p = prior.map(|p| p.get(&nb.name)).filter(|p| !p.is_null());
                plan_block(
                    &nb.block,
                    p,
                    &mut v,
                    config.get(&nb.name),
                    updating,
                    &path,
                    requires_replace,
                );
                planned.set_attr(&nb.name, v);
            }
            (Nesting::List, Value::List(mut items)) => {
                let cfg_items = match config.get(&nb.name) {
                    Value::List(c) => c.clone(),
                    _ => vec![],
                };
                let prior_items = match prior.map(|p| p.get(&nb.name)) {
                    Some(Value::List(p)) => p.clone(),
                    _ => vec![],
                };
                for (i, v) in items.iter_mut().enumerate() {
                    let c = cfg_items.get(i).cloned().unwrap_or_default();
                    plan_block(
                        &nb.block,
                        prior_items.get(i),
                        v,
                        &c,
                        updating,
                        &path.clone().then_index(i as i64),
                        requires_replace,
                    );
                }
                planned.set_attr(&nb.name, Value::List(items));
            }
            _ => {}
        }
    }
}

type R<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<P: Provider> PbProvider for Server<P> {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> R<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: self
                .ephemeral
                .keys()
                .map(|k| pb::get_metadata::EphemeralMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> R<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_pb(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, (_, s, _))| (k.to_string(), schema_to_pb(s)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, (_, s, _))| (k.to_string(), schema_to_pb(s)))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: self
                .ephemeral
                .iter()
                .map(|(k, (_, s, _))| (k.to_string(), schema_to_pb(s)))
                .collect(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> R<pb::validate_provider_config::Response> {
        let mut d = Diags::default();
        let cfg = decode(
            &r.get_ref().config,
            &self.provider_schema.block.ty(),
            &mut d,
        );
        if !d.has_errors() {
            self.provider.validate(&cfg, &mut d).await;
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_pb(&d),
        }))
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> R<pb::validate_resource_config::Response> {
        let r = r.into_inner();
        let (res, schema, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let cfg = decode(&r.config, ty, &mut d);
        if !d.has_errors() {
            run_validators(&schema.block, &cfg, &AttrPath(vec![]), &mut d);
            deprecations(&schema.block, &cfg, &AttrPath(vec![]), &mut d);
            // a client that cannot send write-only values would send none
            let wo_ok = r
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.write_only_attributes_allowed);
            if !wo_ok {
                write_only_set(&schema.block, &cfg, &AttrPath(vec![]), &mut d);
            }
            res.validate(&cfg, &mut d).await;
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_pb(&d),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> R<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let (ds, _, ty) = self
            .data_sources
            .get(r.type_name.as_str())
            .ok_or_else(|| Status::not_found(format!("unknown data source {}", r.type_name)))?;
        let mut d = Diags::default();
        let cfg = decode(&r.config, ty, &mut d);
        if !d.has_errors() {
            ds.validate(&cfg, &mut d).await;
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_pb(&d),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> R<pb::upgrade_resource_state::Response> {
        let r = r.into_inner();
        let (res, _, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let raw = r.raw_state.map(|s| s.json).unwrap_or_default();
        let json: serde_json::Value = if raw.is_empty() {
            serde_json::Value::Null
        } else {
            match serde_json::from_slice(&raw) {
                Ok(j) => j,
                Err(e) => {
                    d.error("Stored state is not valid JSON", e.to_string());
                    serde_json::Value::Null
                }
            }
        };
        let mut upgraded = None;
        if !d.has_errors()
            && let Some(j) = res.upgrade(r.version, json, &mut d)
        {
            match Value::from_json(&j, ty) {
                Ok(v) => upgraded = encode(&v, ty, &mut d),
                Err(e) => d.error("Upgraded state does not fit the schema", e.to_string()),
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diags_to_pb(&d),
        }))
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> R<pb::configure_provider::Response> {
        let mut d = Diags::default();
        let cfg = decode(
            &r.get_ref().config,
            &self.provider_schema.block.ty(),
            &mut d,
        );
        if !d.has_errors() {
            let mut ctx = self.ctx();
            ctx.terraform_version = Some(r.get_ref().terraform_version.clone());
            self.provider.configure(&ctx, &cfg, &mut d).await;
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_pb(&d),
        }))
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> R<pb::read_resource::Response> {
        let r = r.into_inner();
        let (res, _, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let cur = decode(&r.current_state, ty, &mut d);
        let ctx = self.ctx_with(r.private.clone());
        let new_state = if d.has_errors() || cur.is_null() {
            cur
        } else {
            match res.read(&ctx, &cur, &mut d).await {
                Some(v) => v,
                None if d.has_errors() => cur,
                None => Value::Null,
            }
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&new_state, ty, &mut d),
            diagnostics: diags_to_pb(&d),
            private: ctx.private(),
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> R<pb::plan_resource_change::Response> {
        let r = r.into_inner();
        let (res, schema, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let prior = decode(&r.prior_state, ty, &mut d);
        let proposed = decode(&r.proposed_new_state, ty, &mut d);
        let config = decode(&r.config, ty, &mut d);
        if d.has_errors() || proposed.is_null() {
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: r.proposed_new_state,
                requires_replace: vec![],
                planned_private: r.prior_private,
                diagnostics: diags_to_pb(&d),
                legacy_type_system: false,
                deferred: None,
            }));
        }
        let prior_opt = (!prior.is_null()).then_some(&prior);
        // the proposal carries write-only values from the configuration:
        // they are no part of a plan (nor of comparisons with the prior state)
        let mut proposed = proposed;
        null_write_only(&schema.block, &mut proposed);
        let mut plan = initial_plan(schema, prior_opt, &proposed, &config);
        let mut ctx = self.ctx_with(r.prior_private.clone());
        ctx.config = config;
        // the proposal carries write-only values from the configuration:
        // they are no part of a plan (nor of comparisons with the prior state)
        null_write_only(&schema.block, &mut plan.planned);
        res.plan(&ctx, &mut plan, &mut d).await;
        null_write_only(&schema.block, &mut plan.planned);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&plan.planned, ty, &mut d),
            requires_replace: plan.requires_replace.iter().map(path_to_pb).collect(),
            planned_private: ctx.private(),
            diagnostics: diags_to_pb(&d),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> R<pb::apply_resource_change::Response> {
        let r = r.into_inner();
        let (res, schema, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let prior = decode(&r.prior_state, ty, &mut d);
        let planned = decode(&r.planned_state, ty, &mut d);
        let mut ctx = self.ctx_with(r.planned_private.clone());
        ctx.config = decode(&r.config, ty, &mut d);
        let mut new_state = if d.has_errors() {
            prior
        } else if planned.is_null() {
            res.delete(&ctx, &prior, &mut d).await;
            if d.has_errors() { prior } else { Value::Null }
        } else if prior.is_null() {
            res.create(&ctx, &planned, &mut d)
                .await
                .unwrap_or(Value::Null)
        } else {
            res.update(&ctx, &prior, &planned, &mut d).await
        };
        null_write_only(&schema.block, &mut new_state);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&new_state, ty, &mut d),
            private: ctx.private(),
            diagnostics: diags_to_pb(&d),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> R<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let (res, _, ty) = self.resource(&r.type_name)?;
        let mut d = Diags::default();
        let imported = res.import(&self.ctx(), &r.id, &mut d).await;
        let imported_resources = match imported {
            Some(v) if !d.has_errors() => vec![pb::import_resource_state::ImportedResource {
                type_name: r.type_name.clone(),
                state: encode(&v, ty, &mut d),
                private: vec![],
            }],
            _ => vec![],
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diags_to_pb(&d),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        r: Request<pb::move_resource_state::Request>,
    ) -> R<pb::move_resource_state::Response> {
        let r = r.into_inner();
        let mut d = Diags::default();
        d.error(
            "Moving state is not supported",
            format!(
                "{} cannot take state moved from {} ({})",
                r.target_type_name, r.source_type_name, r.source_provider_address
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: diags_to_pb(&d),
            target_private: vec![],
        }))
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> R<pb::read_data_source::Response> {
        let r = r.into_inner();
        let (ds, _, ty) = self
            .data_sources
            .get(r.type_name.as_str())
            .ok_or_else(|| Status::not_found(format!("unknown data source {}", r.type_name)))?;
        let mut d = Diags::default();
        let cfg = decode(&r.config, ty, &mut d);
        let state = if d.has_errors() {
            None
        } else {
            ds.read(&self.ctx(), &cfg, &mut d).await
        };
        let state = state.unwrap_or(cfg);
        Ok(Response::new(pb::read_data_source::Response {
            state: encode(&state, ty, &mut d),
            diagnostics: diags_to_pb(&d),
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> R<pb::validate_ephemeral_resource_config::Response> {
        let r = r.into_inner();
        let (e, _, ty) = self
            .ephemeral
            .get(r.type_name.as_str())
            .ok_or_else(|| no_ephemeral(&r.type_name))?;
        let mut d = Diags::default();
        let cfg = decode(&r.config, ty, &mut d);
        if !d.has_errors() {
            e.validate(&cfg, &mut d).await;
        }
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_to_pb(&d),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> R<pb::open_ephemeral_resource::Response> {
        let r = r.into_inner();
        let (e, _, ty) = self
            .ephemeral
            .get(r.type_name.as_str())
            .ok_or_else(|| no_ephemeral(&r.type_name))?;
        let mut d = Diags::default();
        let cfg = decode(&r.config, ty, &mut d);
        // during validation or planning with unknowns: the result is unknown
        let result = if d.has_errors() {
            None
        } else if cfg.has_unknown() {
            Some(Value::Unknown)
        } else {
            e.open(&self.ctx(), &cfg, &mut d).await
        };
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: diags_to_pb(&d),
            renew_at: None,
            result: result.and_then(|v| encode(&v, ty, &mut d)),
            private: None,
            deferred: None,
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        _r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> R<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: vec![],
            renew_at: None,
            private: None,
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        _r: Request<pb::close_ephemeral_resource::Request>,
    ) -> R<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: vec![],
        }))
    }

    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> R<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response {
            functions: Default::default(),
            diagnostics: vec![],
        }))
    }

    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> R<pb::call_function::Response> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("unknown function {}", r.get_ref().name),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> R<pb::stop_provider::Response> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        if let Ok(mut c) = self.cancel.lock() {
            c.cancel();
            *c = CancellationToken::new();
        }
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// This provider has no ephemeral resources.
/// Nulls every write-only attribute of `v` (planned and new state must
/// not hold them).
pub fn null_write_only(b: &Block, v: &mut Value) {
    let Value::Object(m) = v else { return };
    for a in &b.attributes {
        if a.write_only {
            m.insert(a.name.clone(), Value::Null);
        }
    }
    for nb in &b.blocks {
        match (nb.nesting, m.get_mut(&nb.name)) {
            (Nesting::Single, Some(x)) => null_write_only(&nb.block, x),
            (Nesting::List, Some(Value::List(items))) => {
                for x in items {
                    null_write_only(&nb.block, x)
                }
            }
            _ => {}
        }
    }
}

/// Runs every attribute's declarative validators, with their paths.
pub fn run_validators(b: &Block, cfg: &Value, at: &AttrPath, d: &mut Diags) {
    for a in &b.attributes {
        for v in &a.validators {
            if let Some(msg) = v.check(&a.name, cfg.get(&a.name)) {
                d.error_at(
                    at.clone().then_attr(&a.name),
                    format!("Invalid {}", a.name),
                    msg,
                );
            }
        }
    }
    for nb in &b.blocks {
        match cfg.get(&nb.name) {
            x @ Value::Object(_) => {
                run_validators(&nb.block, x, &at.clone().then_attr(&nb.name), d)
            }
            Value::List(items) => {
                for (i, it) in items.iter().enumerate() {
                    run_validators(
                        &nb.block,
                        it,
                        &at.clone().then_attr(&nb.name).then_index(i as i64),
                        d,
                    )
                }
            }
            _ => {}
        }
    }
}

/// Warns for each deprecated attribute the configuration sets.
fn deprecations(b: &Block, cfg: &Value, at: &AttrPath, d: &mut Diags) {
    for a in &b.attributes {
        if let Some(msg) = &a.deprecated
            && !cfg.get(&a.name).is_null()
        {
            // a sensitive value's own line is not quoted back: point at its block
            let path = if a.sensitive && !at.0.is_empty() {
                at.clone()
            } else {
                at.clone().then_attr(&a.name)
            };
            d.warning_at(path, format!("{} is deprecated", a.name), msg.clone());
        }
    }
    for nb in &b.blocks {
        let x = cfg.get(&nb.name);
        match x {
            Value::Object(_) => deprecations(&nb.block, x, &at.clone().then_attr(&nb.name), d),
            Value::List(items) => {
                for (i, it) in items.iter().enumerate() {
                    deprecations(
                        &nb.block,
                        it,
                        &at.clone().then_attr(&nb.name).then_index(i as i64),
                        d,
                    )
                }
            }
            _ => {}
        }
    }
}

/// Errors for write-only attributes set by a client that cannot send them.
fn write_only_set(b: &Block, cfg: &Value, at: &AttrPath, d: &mut Diags) {
    for a in &b.attributes {
        if a.write_only && !cfg.get(&a.name).is_null() {
            d.error_at(
                at.clone().then_attr(&a.name),
                "Write-only attribute needs Terraform 1.11",
                format!("{} is write-only: it needs Terraform 1.11 or later, which never stores it. With older Terraform, use the attribute it replaces.", a.name),
            );
        }
    }
    for nb in &b.blocks {
        match cfg.get(&nb.name) {
            x @ Value::Object(_) => {
                write_only_set(&nb.block, x, &at.clone().then_attr(&nb.name), d)
            }
            Value::List(items) => {
                for (i, it) in items.iter().enumerate() {
                    write_only_set(
                        &nb.block,
                        it,
                        &at.clone().then_attr(&nb.name).then_index(i as i64),
                        d,
                    )
                }
            }
            _ => {}
        }
    }
}

fn no_ephemeral(type_name: &str) -> Status {
    Status::not_found(format!("unknown ephemeral resource {type_name}"))
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::Attribute;

    fn schema() -> Schema {
        Schema {
            version: 1,
            block: Block {
                description: String::new(),
                attributes: vec![
                    Attribute::computed("id", Ty::String, "").keep_state(),
                    Attribute::computed("status", Ty::String, ""),
                    Attribute::required("name", Ty::String, ""),
                    Attribute::optional("srp", Ty::String, "").force_new(),
                    Attribute::optional("level", Ty::String, "")
                        .with_default(Value::string("Optimized")),
                ],
                blocks: vec![super::super::NestedBlock {
                    name: "limits".into(),
                    block: Block {
                        description: String::new(),
                        attributes: vec![
                            Attribute::optional("mode", Ty::String, "")
                                .with_default(Value::string("Never")),
                            Attribute::optional("pool", Ty::String, "").force_new(),
                        ],
                        blocks: vec![],
                    },
                    nesting: Nesting::Single,
                    max_items: 1,
                }],
            },
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn create_plans_unknown_computed_and_defaults() {
        let cfg = obj(&[
            ("id", Value::Null),
            ("name", Value::string("a")),
            ("srp", Value::Null),
            ("level", Value::Null),
        ]);
        let p = initial_plan(&schema(), None, &cfg, &cfg);
        assert!(p.planned.get("id").is_unknown());
        assert_eq!(p.planned.get("level").as_str(), Some("Optimized"));
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn nested_blocks_get_defaults_and_force_new() {
        let limits =
            |mode: Value, pool: &str| obj(&[("mode", mode), ("pool", Value::string(pool))]);
        let prior = obj(&[
            ("id", Value::string("1")),
            ("name", Value::string("a")),
            ("limits", limits(Value::string("Always"), "p1")),
        ]);
        let cfg = obj(&[
            ("name", Value::string("a")),
            ("limits", limits(Value::Null, "p2")),
        ]);
        let proposed = obj(&[
            ("id", Value::string("1")),
            ("name", Value::string("a")),
            ("limits", limits(Value::string("Always"), "p2")),
        ]);
        let p = initial_plan(&schema(), Some(&prior), &proposed, &cfg);
        assert_eq!(p.planned.get("limits").get("mode").as_str(), Some("Never"));
        assert_eq!(
            p.requires_replace,
            vec![AttrPath::attr("limits").then_attr("pool")]
        );
    }

    #[test]
    fn update_flags_force_new_changes() {
        let prior = obj(&[
            ("id", Value::string("1")),
            ("name", Value::string("a")),
            ("srp", Value::string("SRP_1")),
            ("level", Value::string("Optimized")),
        ]);
        let cfg = obj(&[
            ("id", Value::Null),
            ("name", Value::string("b")),
            ("srp", Value::string("SRP_2")),
            ("level", Value::Null),
        ]);
        let proposed = obj(&[
            ("id", Value::string("1")),
            ("name", Value::string("b")),
            ("srp", Value::string("SRP_2")),
            ("level", Value::string("Optimized")),
        ]);
        let p = initial_plan(&schema(), Some(&prior), &proposed, &cfg);
        assert_eq!(p.requires_replace, vec![AttrPath::attr("srp")]);
        // a computed value the resource keeps stays; others may change
        assert_eq!(p.planned.get("id").as_str(), Some("1"));
        assert!(p.planned.get("status").is_unknown());
        // nothing configured changes: every computed value stays
        let same = initial_plan(
            &schema(),
            Some(&prior),
            &prior,
            &obj(&[("name", Value::string("a"))]),
        );
        assert!(same.planned.get("status").is_null() && same.requires_replace.is_empty());
        let d = diags_to_pb(&{
            let mut d = Diags::default();
            d.error_at(AttrPath::attr("size_gb"), "s", "d");
            d
        });
        assert_eq!(d[0].attribute.as_ref().unwrap().steps.len(), 1);
        let sp = schema_to_pb(&schema());
        let attrs = &sp.block.unwrap().attributes;
        assert_eq!(attrs[0].r#type, b"\"string\"".to_vec());
    }

    #[test]
    fn nested_attributes_and_flags_encode() {
        use crate::tfplugin::{NestedAttributes, NestedNesting};
        let inner = vec![
            Attribute::required("host", Ty::String, "h").plain(),
            Attribute::optional("token", Ty::String, "t")
                .sensitive()
                .write_only(),
        ];
        let a = Attribute::nested(
            "targets",
            NestedAttributes {
                attributes: inner,
                nesting: NestedNesting::List,
            },
            "d",
        );
        let ty = a.value_type();
        let b = Block {
            description: String::new(),
            attributes: vec![Attribute {
                optional: true,
                ..a
            }],
            blocks: vec![],
        };
        let pb = block_to_pb(&b, 2);
        let t = &pb.attributes[0];
        assert!(t.r#type.is_empty());
        let n = t.nested_type.as_ref().unwrap();
        assert_eq!(n.nesting, pb::schema::object::NestingMode::List as i32);
        assert_eq!(
            n.attributes[0].description_kind,
            pb::StringKind::Plain as i32
        );
        assert!(n.attributes[1].sensitive && n.attributes[1].write_only);
        assert_eq!(pb.version, 2);
        // values of the attribute round-trip with the derived type
        let v = Value::List(vec![Value::Object(
            [
                ("host".to_string(), Value::string("a")),
                ("token".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        )]);
        assert_eq!(
            Value::from_msgpack(&v.to_msgpack(&ty).unwrap(), &ty).unwrap(),
            v
        );
    }

    /// A test-only resource that records its life in private state.
    struct Diary;

    #[async_trait::async_trait]
    impl Resource for Diary {
        fn type_name(&self) -> &'static str {
            "test_diary"
        }
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block {
                    description: String::new(),
                    attributes: vec![
                        Attribute::computed("id", Ty::String, ""),
                        Attribute::required("name", Ty::String, ""),
                    ],
                    blocks: vec![],
                },
            }
        }
        async fn plan(&self, ctx: &Ctx, _plan: &mut Plan, _d: &mut Diags) {
            ctx.set_private(b"planned".to_vec());
        }
        async fn create(&self, ctx: &Ctx, planned: &Value, _d: &mut Diags) -> Option<Value> {
            assert_eq!(ctx.private(), b"planned");
            ctx.set_private(b"created".to_vec());
            let mut v = planned.clone();
            v.set_attr("id", Value::string("1"));
            Some(v)
        }
        async fn update(
            &self,
            _ctx: &Ctx,
            _prior: &Value,
            planned: &Value,
            _d: &mut Diags,
        ) -> Value {
            planned.clone()
        }
        async fn delete(&self, _ctx: &Ctx, _prior: &Value, _d: &mut Diags) {}
        async fn read(&self, ctx: &Ctx, current: &Value, _d: &mut Diags) -> Option<Value> {
            let mut p = ctx.private();
            p.extend_from_slice(b"+read");
            ctx.set_private(p);
            Some(current.clone())
        }
    }

    struct DiaryProvider;

    #[async_trait::async_trait]
    impl crate::tfplugin::Provider for DiaryProvider {
        fn schema(&self) -> Schema {
            Schema::default()
        }
        fn resources(&self) -> Vec<std::sync::Arc<dyn Resource>> {
            vec![std::sync::Arc::new(Diary)]
        }
        fn data_sources(&self) -> Vec<std::sync::Arc<dyn crate::tfplugin::DataSource>> {
            vec![]
        }
        async fn configure(&self, _ctx: &Ctx, _config: &Value, _d: &mut Diags) {}
    }

    #[tokio::test]
    async fn private_state_flows_through_plan_apply_and_read() {
        let server = Server::new(DiaryProvider);
        let ty = Diary.schema().block.ty();
        let dv = |v: &Value| {
            Some(pb::DynamicValue {
                msgpack: v.to_msgpack(&ty).unwrap(),
                json: vec![],
            })
        };
        let cfg = obj(&[("id", Value::Null), ("name", Value::string("a"))]);
        let plan = server
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_diary".into(),
                prior_state: dv(&Value::Null),
                proposed_new_state: dv(&cfg),
                config: dv(&cfg),
                prior_private: vec![],
                provider_meta: None,
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(plan.planned_private, b"planned");
        let applied = server
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_diary".into(),
                prior_state: dv(&Value::Null),
                planned_state: plan.planned_state.clone(),
                config: dv(&cfg),
                planned_private: plan.planned_private.clone(),
                provider_meta: None,
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
        assert_eq!(applied.private, b"created");
        let read = server
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: "test_diary".into(),
                current_state: applied.new_state.clone(),
                private: applied.private.clone(),
                provider_meta: None,
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.private, b"created+read");
        let state = Value::from_msgpack(&read.new_state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(state.get("id").as_str(), Some("1"));
    }
}
