//! The `vmax` provider: configuration, and one file per resource and data
//! source. Maps Terraform values to driver calls; never builds a URL.
//!
//! Configuration precedence: an explicit attribute wins; a `VMAX_*`
//! environment variable fills what is left unset; then the default.

pub mod data;
pub mod docs;
pub mod export;
pub mod snapshot;
pub mod volume;

use crate::driver::{ConnectionConfig, Driver, DriverError, Op, Settings};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, DataSource, Diags, Provider, Resource, Schema, Ty, Value,
};
use async_trait::async_trait;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What configure produced, shared by all resources.
#[derive(Default)]
pub struct Shared {
    driver: RwLock<Option<Arc<Driver>>>,
    extras: RwLock<Extras>,
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
            diags.error(
                "Provider not configured",
                "The vmax provider has no working connection to Unisphere; see the errors from its configuration.",
            );
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
        "Unisphere URL, e.g. `https://unisphere.example.com:8443` (`http://` for a simulator started with `--http`). Env: `VMAX_ENDPOINT`.",
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
        attributes.push(Attribute::optional("insecure", Ty::Bool, "Skip verification of Unisphere's TLS certificate (test systems only). Env: `VMAX_INSECURE`. Default `false`."));
        attributes.push(Attribute::optional("port_groups", Ty::list(Ty::String), "iSCSI port groups exports may use, in order of preference. Env: `VMAX_PORT_GROUPS` (comma-separated)."));
        attributes.push(Attribute::optional("job_poll_interval", Ty::Number, "Seconds between polls of an asynchronous job (the seed's `interval`). Env: `VMAX_JOB_POLL_INTERVAL`. Default 3."));
        attributes.push(Attribute::optional("max_over_subscription_ratio", Ty::Number, "Reported by `vmax_pool` for schedulers that compare provisioned capacity to total × ratio. Env: `VMAX_MAX_OVER_SUBSCRIPTION_RATIO`. Default 20."));
        attributes.push(Attribute::optional("reserved_percentage", Ty::Number, "Share of each pool to keep free; `vmax_pool` reports the larger of this and the array's reserved percentage. Env: `VMAX_RESERVED_PERCENTAGE`. Default 0."));
        attributes.push(Attribute::optional("job_timeout", Ty::Number, "Seconds to wait for one asynchronous job (the seed's `interval` × `retries`). Env: `VMAX_JOB_TIMEOUT`. Default 600."));
        Schema {
            version: 0,
            block: Block {
                description: "The `vmax` provider manages Dell EMC VMAX / PowerMax block storage through Unisphere for VMAX/PowerMax's REST API, with the semantics of OpenStack Cinder's VMAX iSCSI driver.".into(),
                attributes,
                blocks: vec![],
            },
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(volume::VolumeResource::new(self.shared.clone())),
            Arc::new(export::ExportResource::new(self.shared.clone())),
            Arc::new(snapshot::SnapshotResource::new(self.shared.clone())),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(data::PoolData::new(self.shared.clone())),
            Arc::new(data::VolumeData::new(self.shared.clone())),
            Arc::new(data::PortGroupData::new(self.shared.clone())),
        ]
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(e) = config.get("endpoint").as_str()
            && !(e.starts_with("https://") || e.starts_with("http://"))
        {
            diags.error_at(AttrPath::attr("endpoint"), "Invalid endpoint", format!("endpoint {e:?} must start with https:// (or http:// for a simulator started with --http)"));
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

    async fn configure(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) {
        let setting = |name: &str| -> Option<String> {
            if let Some(s) = config.get(name).as_str() {
                return Some(s.to_string());
            }
            let (_, env, default, _) = SETTINGS.iter().find(|s| s.0 == name)?;
            std::env::var(env)
                .ok()
                .filter(|v| !v.is_empty())
                .or(default.map(String::from))
        };
        let mut missing = Vec::new();
        for (name, env) in [
            ("endpoint", "VMAX_ENDPOINT"),
            ("username", "VMAX_USERNAME"),
            ("password", "VMAX_PASSWORD"),
            ("array", "VMAX_ARRAY"),
        ] {
            if setting(name).is_none() {
                missing.push(format!("{name} (or {env})"));
            }
        }
        if !missing.is_empty() {
            diags.error(
                "Missing provider configuration",
                format!(
                    "Set {} in the provider block or the environment.",
                    missing.join(", ")
                ),
            );
            return;
        }
        let insecure = config
            .get("insecure")
            .as_bool()
            .or_else(|| {
                std::env::var("VMAX_INSECURE")
                    .ok()
                    .map(|v| v == "true" || v == "1")
            })
            .unwrap_or(false);
        let number = |name: &str, env: &str, default: f64| -> f64 {
            config
                .get(name)
                .as_i64()
                .map(|i| i as f64)
                .or_else(|| match config.get(name) {
                    Value::Number(n) => n.as_f64(),
                    _ => None,
                })
                .or_else(|| std::env::var(env).ok().and_then(|v| v.parse().ok()))
                .unwrap_or(default)
        };
        let extras = Extras {
            max_over_subscription_ratio: number(
                "max_over_subscription_ratio",
                "VMAX_MAX_OVER_SUBSCRIPTION_RATIO",
                20.0,
            ),
            reserved_percentage: number("reserved_percentage", "VMAX_RESERVED_PERCENTAGE", 0.0),
        };
        if !(extras.max_over_subscription_ratio > 0.0
            && (0.0..=100.0).contains(&extras.reserved_percentage))
        {
            diags.error("Invalid pool settings", "max_over_subscription_ratio must be positive and reserved_percentage between 0 and 100");
            return;
        }
        if let Ok(mut e) = self.shared.extras.write() {
            *e = extras;
        }
        let poll = number("job_poll_interval", "VMAX_JOB_POLL_INTERVAL", 3.0);
        let timeout = number("job_timeout", "VMAX_JOB_TIMEOUT", 600.0);
        if !(poll > 0.0 && timeout > 0.0) {
            diags.error(
                "Invalid job polling",
                "job_poll_interval and job_timeout must be positive numbers of seconds",
            );
            return;
        }
        let port_groups: Vec<String> = match config.get("port_groups") {
            Value::List(l) => l
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => std::env::var("VMAX_PORT_GROUPS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let ca_cert_pem = match setting("ca_cert_file") {
            Some(path) => match std::fs::read_to_string(&path) {
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
            endpoint: setting("endpoint").unwrap_or_default(),
            username: setting("username").unwrap_or_default(),
            password: setting("password").unwrap_or_default(),
            insecure,
            ca_cert_pem,
            api_version: setting("api_version"),
            job_poll_interval: Duration::from_secs_f64(poll),
            job_timeout: Duration::from_secs_f64(timeout),
            ..Default::default()
        };
        let endpoint = cfg.endpoint.clone();
        tracing::info!(endpoint = %endpoint, insecure, "configuring the vmax provider");
        let settings = Settings {
            array: setting("array").unwrap_or_default(),
            srp: setting("srp").unwrap_or_else(|| "SRP_1".into()),
            port_groups,
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
