//! Our Terraform plugin layer: tfplugin6 (protocol 6.8) over tonic/prost,
//! go-plugin's handshake with enforced mutual TLS, values, schemas, and the
//! small trait API that `provider/` implements.
//!
//! Invariant: nothing here knows about VMAX. Diagnostics carry summary,
//! detail and attribute path, never a backtrace.

pub mod log;
pub mod plugin;
pub mod server;
pub mod value;

pub use value::{Number, Ty, Value, at_most_one, read_state, write_state};

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Generated protocol types.
pub mod proto {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

// ---- diagnostics ---------------------------------------------------------------

/// A step into a value: attribute, map key or list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// Where in a configuration a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    pub fn attr(name: &str) -> Self {
        AttrPath(vec![Step::Attr(name.to_string())])
    }
    pub fn then_attr(mut self, name: &str) -> Self {
        self.0.push(Step::Attr(name.to_string()));
        self
    }
    pub fn then_index(mut self, i: i64) -> Self {
        self.0.push(Step::Index(i));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

/// Diagnostics collected by one call.
#[derive(Debug, Clone, Default)]
pub struct Diags(pub Vec<Diagnostic>);

impl Diags {
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }
    pub fn error_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: Some(path),
        });
    }
    pub fn warning_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: Some(path),
        });
    }
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        });
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
}

// ---- schemas -----------------------------------------------------------------

/// One attribute of a schema block.
#[derive(Debug, Clone, Default)]
pub struct Attribute {
    pub name: String,
    pub ty: Option<Ty>,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// Our own flag: a change to this attribute replaces the resource.
    pub force_new: bool,
    /// Our own: the planned value when the configuration leaves it null
    /// (optional + computed attributes only).
    pub default: Option<Value>,
    /// Nested attributes (protocol 6 `nested_type`) instead of `ty`.
    pub nested: Option<NestedAttributes>,
    /// The description is plain text rather than markdown.
    pub plain_description: bool,
    /// Deprecated, with what to use instead: setting it warns.
    pub deprecated: Option<String>,
    /// Checks of the configured value, run by the plugin layer at validate
    /// time (with the attribute's path) and rendered into the docs.
    pub validators: Vec<Validator>,
    /// A computed value an update leaves as it is: planned as the state
    /// has it (the framework's UseStateForUnknown). Other computed values
    /// the configuration does not set are unknown in an update's plan.
    pub keep_state: bool,
}

/// A declarative check of an attribute's configured value.
#[derive(Debug, Clone, PartialEq)]
pub enum Validator {
    /// One of these strings, exactly.
    OneOf(Vec<String>),
    /// A whole number from..=to.
    IntRange(i64, i64),
    /// A string of from..=to characters.
    Length(usize, usize),
}

impl Validator {
    pub fn one_of(values: &[&str]) -> Self {
        Validator::OneOf(values.iter().map(|v| v.to_string()).collect())
    }

    /// What a valid value is, for messages and docs.
    pub fn describe(&self) -> String {
        match self {
            Validator::OneOf(v) => format!(
                "one of {}",
                v.iter()
                    .map(|x| format!("`{x}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Validator::IntRange(a, b) => format!("a whole number from {a} to {b}"),
            Validator::Length(a, b) => format!("{a} to {b} characters"),
        }
    }

    /// `None` when `v` passes (unknown and null values always do).
    pub fn check(&self, name: &str, v: &Value) -> Option<String> {
        match (self, v) {
            (_, Value::Null | Value::Unknown) => None,
            (Validator::OneOf(ok), Value::String(s)) => {
                (!ok.contains(s)).then(|| format!("{name} must be {}, not {s:?}", self.describe()))
            }
            (Validator::IntRange(a, b), Value::Number(n)) => match v.as_i64() {
                Some(i) if i >= *a && i <= *b => None,
                _ => Some(format!("{name} must be {}, not {n}", self.describe())),
            },
            (Validator::Length(a, b), Value::String(s)) => {
                let n = s.chars().count();
                (n < *a || n > *b).then(|| format!("{name} must be {}, not {n}", self.describe()))
            }
            _ => None,
        }
    }
}

impl Attribute {
    /// The value stays what the state has across updates.
    pub fn keep_state(mut self) -> Self {
        self.keep_state = true;
        self
    }

    /// Adds a declarative check.
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }
}

/// Attributes nested inside an attribute, as one object or a list, set or map of them.
#[derive(Debug, Clone)]
pub struct NestedAttributes {
    pub attributes: Vec<Attribute>,
    pub nesting: NestedNesting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedNesting {
    Single,
    List,
    Set,
    Map,
}

impl NestedAttributes {
    /// The value type of the attribute.
    pub fn ty(&self) -> Ty {
        let obj = Ty::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.value_type()))
                .collect(),
        );
        match self.nesting {
            NestedNesting::Single => obj,
            NestedNesting::List => Ty::list(obj),
            NestedNesting::Set => Ty::set(obj),
            NestedNesting::Map => Ty::map(obj),
        }
    }
}

impl Attribute {
    fn base(name: &str, ty: Ty, description: &str) -> Self {
        Attribute {
            name: name.into(),
            ty: Some(ty),
            description: description.into(),
            ..Default::default()
        }
    }
    pub fn required(name: &str, ty: Ty, description: &str) -> Self {
        Attribute {
            required: true,
            ..Self::base(name, ty, description)
        }
    }
    pub fn optional(name: &str, ty: Ty, description: &str) -> Self {
        Attribute {
            optional: true,
            ..Self::base(name, ty, description)
        }
    }
    pub fn computed(name: &str, ty: Ty, description: &str) -> Self {
        Attribute {
            computed: true,
            ..Self::base(name, ty, description)
        }
    }
    /// Optional in configuration; computed (or defaulted) when omitted.
    pub fn optional_computed(name: &str, ty: Ty, description: &str) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Self::base(name, ty, description)
        }
    }
    /// The attribute's value type (from `ty`, or its nested attributes).
    pub fn value_type(&self) -> Ty {
        match (&self.ty, &self.nested) {
            (Some(t), _) => t.clone(),
            (None, Some(n)) => n.ty(),
            (None, None) => Ty::Dynamic,
        }
    }

    /// An attribute made of nested attributes.
    pub fn nested(name: &str, nested: NestedAttributes, description: &str) -> Self {
        Attribute {
            name: name.into(),
            nested: Some(nested),
            description: description.into(),
            ..Default::default()
        }
    }

    /// Write-only (Terraform 1.11+): taken from the configuration at
    /// apply, never stored in plan or state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Marks the attribute deprecated; setting it warns with `message`.
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecated = Some(message.into());
        self
    }

    pub fn plain(mut self) -> Self {
        self.plain_description = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn with_default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self.optional = true;
        self.computed = true;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub max_items: i64,
}

/// A schema block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    /// The object type of this block's values.
    pub fn ty(&self) -> Ty {
        let mut m = BTreeMap::new();
        for a in &self.attributes {
            m.insert(a.name.clone(), a.value_type());
        }
        for b in &self.blocks {
            let t = b.block.ty();
            m.insert(
                b.name.clone(),
                match b.nesting {
                    Nesting::Single => t,
                    Nesting::List => Ty::list(t),
                },
            );
        }
        Ty::Object(m)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// A resource or data source schema with its version.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

// ---- the trait API --------------------------------------------------------------

/// What every call can see: cancellation when Terraform asks the provider
/// to stop, and the resource instance's private state (bytes Terraform
/// keeps with the state but never shows), which a call may read and replace.
#[derive(Clone, Default)]
pub struct Ctx {
    pub cancel: CancellationToken,
    private: Arc<std::sync::Mutex<Vec<u8>>>,
    /// The configuration of the resource being applied (with its
    /// write-only values, which the planned state never holds).
    pub config: Value,
    /// The Terraform version (ConfigureProvider only).
    pub terraform_version: Option<String>,
}

impl Ctx {
    pub fn new(cancel: CancellationToken, private: Vec<u8>) -> Self {
        Ctx {
            cancel,
            private: Arc::new(std::sync::Mutex::new(private)),
            config: Value::Null,
            terraform_version: None,
        }
    }
    /// The private state Terraform passed to this call.
    pub fn private(&self) -> Vec<u8> {
        self.private.lock().map(|p| p.clone()).unwrap_or_default()
    }
    /// Replaces the private state Terraform will keep.
    pub fn set_private(&self, bytes: Vec<u8>) {
        if let Ok(mut p) = self.private.lock() {
            *p = bytes;
        }
    }
}

/// A plan being made for one resource instance.
pub struct Plan {
    /// `None` when creating.
    pub prior: Option<Value>,
    pub config: Value,
    /// Starts as Terraform's proposal with defaults applied and unknown
    /// computed values; the resource adjusts it.
    pub planned: Value,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
}

impl Plan {
    /// Whether an attribute's planned value differs from the prior state.
    pub fn changed(&self, name: &str) -> bool {
        match &self.prior {
            None => true,
            Some(p) => p.get(name) != self.planned.get(name),
        }
    }
    /// Marks a computed attribute as unknown until apply.
    pub fn unknown(&mut self, name: &str) {
        self.planned.set_attr(name, Value::Unknown);
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value, _diags: &mut Diags) {}
    /// Adjusts a plan (create or update; destroy plans are not passed here).
    async fn plan(&self, _ctx: &Ctx, _plan: &mut Plan, _diags: &mut Diags) {}
    /// Returns the new state; on error, return whatever state now exists
    /// (`Some`) so that nothing is orphaned, or `None` when nothing was made.
    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value>;
    /// Returns the state after the update, even a partial one on error.
    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value, diags: &mut Diags) -> Value;
    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags);
    /// `None` when the object no longer exists.
    async fn read(&self, ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value>;
    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        diags.error(
            "Import is not supported",
            format!("{} cannot be imported (id {id:?})", self.type_name()),
        );
        None
    }
    /// Upgrades raw JSON state from an older schema `version` to the current
    /// one; the default accepts only the current version.
    fn upgrade(
        &self,
        version: i64,
        raw: serde_json::Value,
        diags: &mut Diags,
    ) -> Option<serde_json::Value> {
        if version == self.schema().version {
            Some(raw)
        } else {
            diags.error(
                "Unsupported state version",
                format!(
                    "{} has no upgrade from schema version {version}",
                    self.type_name()
                ),
            );
            None
        }
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value, _diags: &mut Diags) {}
    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value>;
}

/// An ephemeral resource type (Terraform 1.10+): opened for one run, its
/// result is never stored in plan or state.
#[async_trait]
pub trait EphemeralResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn validate(&self, _config: &Value, _diags: &mut Diags) {}
    async fn open(&self, ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value>;
}

/// The provider itself.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![]
    }
    async fn validate(&self, _config: &Value, _diags: &mut Diags) {}
    async fn configure(&self, ctx: &Ctx, config: &Value, diags: &mut Diags);
}
