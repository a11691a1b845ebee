//! The `vmax` provider: configuration, and one file per resource and data
//! source. Maps Terraform values to driver calls; never builds a URL.
//!
//! Configuration precedence: an explicit attribute wins; a `VMAX_*`
//! environment variable fills what is left unset; then the default.

pub mod data;
pub mod docs;
pub mod export;
pub mod group;
pub mod lists;
pub mod settings;
pub mod snapshot;
pub mod volume;

use crate::driver::{ConnectionConfig, Driver, DriverError, Op, Settings};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, DataSource, Diags, NestedBlock, Nesting, Provider, Resource,
    Schema, Ty, Value,
};
use async_trait::async_trait;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What configure produced, shared by all resources.
#[derive(Default)]
pub struct Shared {
    driver: RwLock<Option<Arc<Driver>>>,
    extras: RwLock<Extras>,
    /// Provider settings unknown at plan time (they come from resources
    /// not made yet): plans go on with unknown values.
    unknown: RwLock<Vec<String>>,
}

/// Provider settings that only the pool figures use.
#[derive(Debug, Clone, Copy)]
pub struct Extras {
    pub max_over_subscription_ratio: f64,
    pub reserved_percentage: f64,
}

impl Default for Extras {
    fn default() -> Self {
        Extras {
            max_over_subscription_ratio: 20.0,
            reserved_percentage: 0.0,
        }
    }
}

/// Reports a driver error, at its attribute when it names one.
pub(crate) fn report(diags: &mut Diags, summary: &str, e: &DriverError) {
    match e.attribute() {
        Some(attr) => {
            let mut parts = attr.split('.');
            let mut path = AttrPath::attr(parts.next().unwrap_or(attr));
            for p in parts {
                path = path.then_attr(p);
            }
            diags.error_at(path, summary, e.to_string());
        }
        None => diags.error(summary, e.to_string()),
    }
}

/// The bounds of one resource operation: its timeout and Terraform's stop.
pub(crate) fn op(ctx: &Ctx, what: impl Into<String>, limit: Duration) -> Op {
    Op::new(what, limit, ctx.cancel.clone())
}

impl Shared {
    /// The configured driver, or an error diagnostic.
    pub fn driver(&self, diags: &mut Diags) -> Option<Arc<Driver>> {
        let d = self.driver.read().ok().and_then(|g| g.clone());
        if d.is_none() {
            let unknown = self.unknown.read().map(|u| u.clone()).unwrap_or_default();
            if unknown.is_empty() {
                diags.error(
                    "Provider not configured",
                    "The vmax provider has no working connection to Unisphere; see the errors from its configuration.",
                );
            } else {
                diags.error(
                    "Provider settings unknown",
                    format!(
                        "The vmax provider's {} {} not known until apply (it comes from a resource not made yet), and this needs the array. Apply the resource it comes from first (terraform apply -target=...), or set it from a known value.",
                        unknown.join(", "),
                        if unknown.len() == 1 { "is" } else { "are" }
                    ),
                );
            }
        }
        d
    }

    pub fn extras(&self) -> Extras {
        self.extras.read().map(|e| *e).unwrap_or_default()
    }

    /// The configured driver when there is one (plan-time checks are skipped without it).
    pub fn try_driver(&self) -> Option<Arc<Driver>> {
        self.driver.read().ok().and_then(|g| g.clone())
    }
}

pub struct VmaxProvider {
    shared: Arc<Shared>,
}

impl Default for VmaxProvider {
    fn default() -> Self {
        VmaxProvider {
            shared: Arc::new(Shared::default()),
        }
    }
}

/// Each attribute with its environment variable and default.
const SETTINGS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "endpoint",
        "VMAX_ENDPOINT",
        None,
        "Unisphere URL, e.g. `https://unisphere.example.com:8443`. `http://` is refused unless `insecure = true` (a simulator started with `--http`); a user name or password in the URL is refused. Env: `VMAX_ENDPOINT`.",
    ),
    (
        "username",
        "VMAX_USERNAME",
        None,
        "Unisphere user. Env: `VMAX_USERNAME`.",
    ),
    (
        "password",
        "VMAX_PASSWORD",
        None,
        "Unisphere password. Env: `VMAX_PASSWORD`.",
    ),
    (
        "array",
        "VMAX_ARRAY",
        None,
        "12-digit serial of the array to manage, e.g. `000197800123`. Env: `VMAX_ARRAY`.",
    ),
    (
        "srp",
        "VMAX_SRP",
        Some("SRP_1"),
        "Default storage resource pool. Env: `VMAX_SRP`. Default `SRP_1`.",
    ),
    (
        "ca_cert_file",
        "VMAX_CA_CERT_FILE",
        None,
        "PEM file of the CA (or the certificate) Unisphere's TLS certificate is checked against instead of the system's. Env: `VMAX_CA_CERT_FILE`.",
    ),
    (
        "api_version",
        "VMAX_API_VERSION",
        None,
        "REST API version for paths (`84`, `92`, `100`, ...). Default: the version Unisphere reports. Env: `VMAX_API_VERSION`.",
    ),
];

#[async_trait]
impl Provider for VmaxProvider {
    fn schema(&self) -> Schema {
        let mut attributes: Vec<Attribute> = SETTINGS
            .iter()
            .map(|(name, _, _, doc)| {
                let a = Attribute::optional(name, Ty::String, doc);
                if *name == "password" {
                    a.sensitive()
                } else {
                    a
                }
            })
            .collect();
        attributes.push(Attribute::optional("insecure", Ty::Bool, "Skip verification of Unisphere's TLS certificate (test systems only; every run warns). Cannot be combined with `ca_cert_file`. Env: `VMAX_INSECURE` (`true` or `false`). Default `false`."));
        attributes.push(Attribute::optional("port_groups", Ty::list(Ty::String), "iSCSI port groups exports may use, in order of preference. Env: `VMAX_PORT_GROUPS` (comma-separated)."));
        attributes.push(Attribute::optional("job_poll_interval", Ty::Number, "Longest pause, in seconds, between looks at an asynchronous job, 0.01 to 300: the first look is aimed at when the array's jobs usually finish (by the array's own clock), later ones back off up to this. Env: `VMAX_JOB_POLL_INTERVAL`. Default 3."));
        attributes.push(Attribute::optional("max_over_subscription_ratio", Ty::Number, "Reported by `vmax_pool` for schedulers that compare provisioned capacity to total × ratio. Env: `VMAX_MAX_OVER_SUBSCRIPTION_RATIO`. Default 20."));
        attributes.push(Attribute::optional("reserved_percentage", Ty::Number, "Share of each pool to keep free; `vmax_pool` reports the larger of this and the array's reserved percentage. Env: `VMAX_RESERVED_PERCENTAGE`. Default 0."));
        attributes.push(Attribute::optional("job_timeout", Ty::Number, "Seconds to wait for one asynchronous job, 1 to 86400. Env: `VMAX_JOB_TIMEOUT`. Default 600."));
        Schema {
            version: 0,
            block: Block {
                description: "The `vmax` provider manages Dell EMC VMAX / PowerMax block storage through Unisphere for VMAX/PowerMax's REST API, with the semantics of OpenStack Cinder's VMAX iSCSI driver.".into(),
                attributes,
                blocks: vec![NestedBlock {
                    name: "replication".into(),
                    block: Block {
                        description: "SRDF/S replication to a second array managed by the same Unisphere (the VMAX iSCSI driver's `replication_device`). Volumes with `replicated = true` get a twin on `remote_array`, paired synchronously in the RDF group labelled `rdf_group_label`.".into(),
                        attributes: vec![
                            Attribute::required("remote_array", Ty::String, "12-digit serial of the remote array (the other end of the RDF group)."),
                            Attribute::optional("remote_srp", Ty::String, "Storage resource pool of the twins on the remote array. Default: the provider's `srp`."),
                            Attribute::optional("remote_port_groups", Ty::list(Ty::String), "iSCSI port groups of the remote array, for exports of failed-over volumes."),
                            Attribute::required("rdf_group_label", Ty::String, "Label of the RDF group that pairs the two arrays, e.g. `os-rdf`."),
                            Attribute::optional("allow_extend", Ty::Bool, "Whether replicated volumes may grow (suspend, extend the twin then the volume, establish again). Default `false`: growing one is refused at plan time."),
                        ],
                        blocks: vec![],
                    },
                    nesting: Nesting::Single,
                    max_items: 1,
                }],
            },
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(volume::VolumeResource::new(self.shared.clone())),
            Arc::new(export::ExportResource::new(self.shared.clone())),
            Arc::new(snapshot::SnapshotResource::new(self.shared.clone())),
            Arc::new(group::VolumeGroupResource::new(self.shared.clone())),
            Arc::new(group::GroupSnapshotResource::new(self.shared.clone())),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn crate::tfplugin::EphemeralResource>> {
        vec![Arc::new(export::ConnectionEphemeral::new(
            self.shared.clone(),
        ))]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(data::PoolData::new(self.shared.clone())),
            Arc::new(data::PoolData::list(self.shared.clone())),
            Arc::new(data::VolumeData::new(self.shared.clone())),
            Arc::new(data::PortGroupData::new(self.shared.clone())),
            Arc::new(lists::VolumesData::new(self.shared.clone())),
            Arc::new(lists::StorageGroupsData::new(self.shared.clone())),
            Arc::new(lists::HostsData::new(self.shared.clone())),
        ]
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(e) = config.get("endpoint").as_str()
            && !(e.starts_with("https://") || e.starts_with("http://"))
        {
            diags.error_at(
                AttrPath::attr("endpoint"),
                "Invalid endpoint",
                format!(
                    "endpoint {:?} must start with https://",
                    settings::redact(e)
                ),
            );
        }
        if let Some(a) = config.get("array").as_str()
            && !(a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
        {
            diags.error_at(
                AttrPath::attr("array"),
                "Invalid array serial",
                format!("array {a:?} must be the array's 12-digit serial, e.g. \"000197800123\""),
            );
        }
    }

    async fn configure(&self, ctx: &Ctx, config: &Value, diags: &mut Diags) {
        // a setting that comes from a resource not made yet is unknown
        // while planning: plan on, with unknown values, and say which
        let unknown = settings::unknown_settings(config);
        if let Ok(mut u) = self.shared.unknown.write() {
            *u = unknown.clone();
        }
        if !unknown.is_empty() {
            tracing::info!(settings = %unknown.join(", "), "provider settings unknown until apply; planning with unknown values");
            diags.warning(
                "Provider settings known only at apply",
                format!(
                    "The vmax provider's {} {} not known yet; the plan shows what depends on the array as known after apply, and nothing is checked against the array until then.",
                    unknown.join(", "),
                    if unknown.len() == 1 { "is" } else { "are" }
                ),
            );
            return;
        }
        let Some(r) = settings::resolve(config, |k| std::env::var(k).ok(), diags) else {
            return;
        };
        if let Ok(mut e) = self.shared.extras.write() {
            *e = Extras {
                max_over_subscription_ratio: r.max_over_subscription_ratio,
                reserved_percentage: r.reserved_percentage,
            };
        }
        let ca_cert_pem = match &r.ca_cert_file {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(p) => Some(p),
                Err(e) => {
                    diags.error_at(
                        AttrPath::attr("ca_cert_file"),
                        "Cannot read ca_cert_file",
                        format!("{path}: {e}"),
                    );
                    return;
                }
            },
            None => None,
        };
        let cfg = ConnectionConfig {
            endpoint: r.endpoint.clone(),
            username: r.username.clone(),
            password: r.password.clone(),
            insecure: r.insecure,
            ca_cert_pem,
            api_version: r.api_version.clone(),
            job_poll_interval: r.job_poll_interval,
            job_timeout: r.job_timeout,
            terraform_version: ctx.terraform_version.clone(),
            ..Default::default()
        };
        tracing::info!(endpoint = %settings::redact(&r.endpoint), insecure = r.insecure, "configuring the vmax provider");
        let settings = Settings {
            array: r.array.clone(),
            srp: r.srp.clone(),
            port_groups: r.port_groups.clone(),
            replication: r.replication.clone(),
        };
        let driver = match Driver::connect(cfg, settings).await {
            Ok(d) => d,
            Err(e @ DriverError::Invalid { .. }) => {
                diags.error("Cannot use the configured array", e.to_string());
                return;
            }
            Err(e) => {
                diags.error("Cannot connect to Unisphere", e.to_string());
                return;
            }
        };
        if let Ok(mut g) = self.shared.driver.write() {
            *g = Some(Arc::new(driver));
        }
    }
}
