//! `vmax_iscsi_export`: initialize_connection (create), terminate_connection
//! (delete), ensure_export (read), and the iSCSI connection properties.

use super::{Shared, op, report};
use crate::driver::export::{
    Connector, Export, ExportStatus, Target, check_initiator, connection_info,
};
use crate::driver::replication::Side;
use crate::driver::{Driver, DriverError, Op};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Ctx, Diags, NestedBlock, Nesting, Plan, Resource, Schema, Ty, Value,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub struct ExportResource {
    shared: Arc<Shared>,
    ty: Ty,
}

impl ExportResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        ExportResource {
            shared,
            ty: schema().block.ty(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Chap {
    pub username: String,
    /// Deprecated: stored in state. `secret_wo` is never stored.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_wo: Option<String>,
    #[serde(default)]
    pub secret_wo_version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ExportState {
    pub id: Option<String>,
    pub volume_id: String,
    pub host: String,
    pub initiator: String,
    pub port_group: Option<String>,
    pub multipath: bool,
    /// A list block of at most one element.
    #[serde(default, with = "crate::tfplugin::at_most_one")]
    pub chap: Option<Chap>,
    #[serde(default)]
    pub active_side: Option<String>,
    #[serde(default)]
    pub array: Option<String>,
    #[serde(default)]
    pub device_id: Option<String>,
    pub masking_view: Option<String>,
    pub storage_group: Option<String>,
    pub initiator_group: Option<String>,
    pub host_lun_id: Option<i64>,
    pub target_iqn: Option<String>,
    pub target_portal: Option<String>,
    pub target_lun: Option<i64>,
    pub target_iqns: Option<Vec<String>>,
    pub target_portals: Option<Vec<String>>,
    pub target_luns: Option<Vec<i64>>,
    pub connection_info: Option<String>,
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Timeouts {
    pub create: Option<String>,
    pub delete: Option<String>,
}

impl ExportState {
    fn fill(&mut self, e: &Export) {
        self.id = Some(format!("{}:{}", self.volume_id, self.host));
        self.port_group = Some(e.port_group.clone());
        self.masking_view = Some(e.masking_view.clone());
        self.storage_group = Some(e.storage_group.clone());
        self.initiator_group = Some(e.initiator_group.clone());
        self.set_targets(e.host_lun_id, &e.targets);
    }

    fn set_targets(&mut self, lun: u32, targets: &[Target]) {
        self.host_lun_id = Some(lun as i64);
        self.target_lun = Some(lun as i64);
        self.target_iqn = targets.first().map(|t| t.iqn.clone());
        self.target_portal = targets.first().map(|t| t.portal.clone());
        self.target_iqns = Some(targets.iter().map(|t| t.iqn.clone()).collect());
        self.target_portals = Some(targets.iter().map(|t| t.portal.clone()).collect());
        self.target_luns = Some(vec![lun as i64; targets.len()]);
        self.connection_info = Some(self.info(lun, targets));
    }

    /// The connection properties kept in state: with the CHAP user name,
    /// never the secret (the ephemeral `vmax_iscsi_connection` has it).
    fn info(&self, lun: u32, targets: &[Target]) -> String {
        let chap = self.chap.as_ref().map(|c| (c.username.as_str(), None));
        let dev = self.device_id.as_deref().unwrap_or(&self.volume_id);
        connection_info(dev, lun, targets, self.multipath, chap).to_string()
    }

    fn targets(&self) -> Vec<Target> {
        let iqns = self.target_iqns.clone().unwrap_or_default();
        let portals = self.target_portals.clone().unwrap_or_default();
        iqns.into_iter()
            .zip(portals)
            .map(|(iqn, portal)| Target { iqn, portal })
            .collect()
    }
}

/// The array and device serving a volume's export: the volume itself,
/// or its remote twin when its RDF pair is failed over.
async fn serving(d: &Driver, volume: &str) -> Result<(String, String), DriverError> {
    if d.replication().is_none() {
        return Ok((d.array().to_string(), volume.to_string()));
    }
    match d.pair(volume).await? {
        Some(p) if p.active_side() == Side::Remote => Ok((p.remote_array, p.remote_device)),
        _ => Ok((d.array().to_string(), volume.to_string())),
    }
}

/// [`serving`] at plan time: by the declared side when there is one (the
/// volume may fail over in the same apply), else by the pair's state.
async fn planned_serving(
    d: &Driver,
    volume: &str,
    side: Option<&str>,
) -> Result<(String, String), DriverError> {
    match side {
        Some("remote") if d.replication().is_some() => match d.pair(volume).await? {
            Some(p) => Ok((p.remote_array, p.remote_device)),
            None => Err(DriverError::invalid(
                "active_side",
                format!("volume {volume} is not replicated, so it has no remote side to export"),
            )),
        },
        Some("local") => Ok((d.array().to_string(), volume.to_string())),
        _ => serving(d, volume).await,
    }
}

/// The driver of `array` (the provider's, or the replication's remote one).
async fn driver_for<'a>(d: &'a Driver, array: Option<&str>) -> Result<&'a Driver, DriverError> {
    match array {
        Some(a) if a != d.array() => d.remote().await,
        _ => Ok(d),
    }
}

pub fn schema() -> Schema {
    let chap = Block {
        description: "CHAP credentials the host logs in with. The provider does not configure CHAP on the array (array-side CHAP is set on the iSCSI targets or initiator groups by the array's administrators); this block only puts the CHAP method and user name into `connection_info`. The secret never reaches state in its write-only form: the ephemeral `vmax_iscsi_connection` returns the full connection properties, secret included, for other ephemeral uses.".into(),
        attributes: vec![
            Attribute::required("username", Ty::String, "CHAP user name."),
            Attribute::optional("secret_wo", Ty::String, "CHAP secret, write-only (Terraform 1.11+): checked, never stored in plan or state. Change `secret_wo_version` to record a new secret.").sensitive().write_only(),
            Attribute::optional("secret_wo_version", Ty::Number, "Any number; change it when `secret_wo` changes (Terraform cannot see a write-only value change)."),
            Attribute::optional("secret", Ty::String, "CHAP secret, stored in state (sensitive). For Terraform before 1.11.").sensitive().deprecated("use secret_wo (Terraform 1.11 or later): a write-only secret is never stored in state."),
        ],
        blocks: vec![],
    };
    let s = |n: &str, d: &str| Attribute::computed(n, Ty::String, d);
    Schema {
        version: 0,
        block: Block {
            description: "Makes a volume visible to a host's iSCSI initiator through a masking view (the VMAX iSCSI driver's initialize_connection) and exports what the host needs to log in. Destroying it is terminate_connection: only this host loses access.".into(),
            attributes: vec![
                s("id", "`<volume id>:<host>`.").keep_state(),
                Attribute::required("volume_id", Ty::String, "Device id of the volume to export.").force_new(),
                Attribute::required("host", Ty::String, "The connecting host's name (the connector's host); names the initiator group `OS-<short host>-I-IG`, where the short host is the name up to its first dot. Two hosts with the same first label cannot both be exported: the second is refused (use a name with a unique first label). An existing initiator group is used only when it holds exactly this initiator.").force_new(),
                Attribute::required("initiator", Ty::String, "The host's iSCSI initiator name (`iqn.` or `eui.` form).").force_new(),
                Attribute::optional_computed("port_group", Ty::String, "Port group to export through. Default: the first of the provider's `port_groups`. Port groups are never created by the provider.").force_new().keep_state(),
                Attribute::optional("multipath", Ty::Bool, "Whether the host uses multipath: `connection_info` then lists every portal. Default `true`.").with_default(Value::Bool(true)),
                Attribute::optional("active_side", Ty::String, "For replicated volumes: set it to the volume's `replication_active_side` (`active_side = vmax_volume.x.replication_active_side`) so that a failover or failback replaces the export in the same apply (removed from the old side before the volume fails over, made on the new side after). Without it the export follows at the next plan.").force_new().validate(crate::tfplugin::Validator::one_of(&["local", "remote"])),
                s("array", "The array serving the export: the provider's, or for a failed-over replicated volume the replication's remote array (the export follows the volume's active side: a failover or failback plans its replacement).").keep_state(),
                s("device_id", "The device the host sees: `volume_id`, or its remote twin when the volume is failed over.").keep_state(),
                s("masking_view", "The masking view, `OS-<host>-I-<port group>-MV`.").keep_state(),
                s("storage_group", "The child storage group holding the volume for this host.").keep_state(),
                s("initiator_group", "The initiator group (host) holding the initiator.").keep_state(),
                Attribute::computed("host_lun_id", Ty::Number, "The LUN the host sees the volume at.").keep_state(),
                s("target_iqn", "The first target's IQN.").keep_state(),
                s("target_portal", "The first target portal, `<ip>:3260`.").keep_state(),
                Attribute::computed("target_lun", Ty::Number, "Same as `host_lun_id`.").keep_state(),
                Attribute::computed("target_iqns", Ty::list(Ty::String), "Every target IQN of the port group, one per portal.").keep_state(),
                Attribute::computed("target_portals", Ty::list(Ty::String), "Every target portal of the port group.").keep_state(),
                Attribute::computed("target_luns", Ty::list(Ty::Number), "The LUN, once per portal.").keep_state(),
                Attribute::computed("connection_info", Ty::String, "JSON of `{\"driver_volume_type\": \"iscsi\", \"data\": {...}}` as the VMAX iSCSI driver builds it, with `auth_method` and `auth_username` when `chap` is set but never the CHAP secret (see the ephemeral `vmax_iscsi_connection`). Sensitive.").sensitive(),
            ],
            blocks: vec![
                NestedBlock { name: "chap".into(), block: chap, nesting: Nesting::List, max_items: 1 },
                NestedBlock {
                    name: "timeouts".into(),
                    block: Block {
                        description: "How long each operation may take, as Go durations such as `500ms`, `30s`, `10m`, `1h30m`. An operation that runs out of time, or that Terraform stops, undoes what it did (create) or stops between two steps and finishes on the next run (delete).".into(),
                        attributes: vec![
                            Attribute::optional("create", Ty::String, "Default: the provider's `job_timeout`."),
                            Attribute::optional("delete", Ty::String, "Default: the provider's `job_timeout`."),
                        ],
                        blocks: vec![],
                    },
                    nesting: Nesting::Single,
                    max_items: 1,
                },
            ],
        },
    }
}

impl ExportResource {
    fn state(&self, v: &Value, diags: &mut Diags) -> Option<ExportState> {
        crate::tfplugin::read_state(v, "vmax_iscsi_export", diags)
    }

    fn value(&self, s: &ExportState, diags: &mut Diags) -> Value {
        crate::tfplugin::write_state(s, &self.ty, "vmax_iscsi_export", diags)
    }
}

#[async_trait]
impl Resource for ExportResource {
    fn type_name(&self) -> &'static str {
        "vmax_iscsi_export"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if let Some(i) = config.get("initiator").as_str()
            && let Err(e) = check_initiator(i)
        {
            diags.error_at(AttrPath::attr("initiator"), "Invalid initiator", e);
        }
        if let Some(h) = config.get("host").as_str()
            && let Err(e) = crate::driver::export::check_host(h)
        {
            diags.error_at(AttrPath::attr("host"), "Invalid host name", e);
        }
        if let Some(pg) = config.get("port_group").as_str()
            && let Err(e) = crate::driver::naming::check_object_name("port group", pg)
        {
            diags.error_at(AttrPath::attr("port_group"), "Invalid port group name", e);
        }
        if let Value::List(chap) = config.get("chap") {
            for (i, c) in chap.iter().enumerate() {
                let at = |k: &str| {
                    AttrPath(vec![
                        crate::tfplugin::Step::Attr("chap".into()),
                        crate::tfplugin::Step::Index(i as i64),
                        crate::tfplugin::Step::Attr(k.into()),
                    ])
                };
                let (old, wo) = (c.get("secret"), c.get("secret_wo"));
                if old.is_null() && wo.is_null() {
                    diags.error_at(at("secret_wo"), "CHAP secret missing", "chap needs secret_wo (Terraform 1.11+; never stored) or the deprecated secret");
                } else if !old.is_null() && !wo.is_null() {
                    diags.error_at(
                        at("secret"),
                        "Two CHAP secrets",
                        "set secret_wo or secret, not both",
                    );
                }
                for k in ["username", "secret", "secret_wo"] {
                    if c.get(k).as_str().is_some_and(|v| v.trim().is_empty()) {
                        diags.error_at(
                            AttrPath(vec![
                                crate::tfplugin::Step::Attr("chap".into()),
                                crate::tfplugin::Step::Index(i as i64),
                                crate::tfplugin::Step::Attr(k.into()),
                            ]),
                            "Empty CHAP setting",
                            format!("chap {k} must not be empty"),
                        );
                    }
                }
            }
        }
        super::volume::validate_timeouts(config, diags);
        if let Some(v) = config.get("volume_id").as_str()
            && !(v.len() == 5 && v.chars().all(|c| c.is_ascii_hexdigit()))
        {
            diags.error_at(
                AttrPath::attr("volume_id"),
                "Invalid volume id",
                format!(
                    "volume_id {v:?} must be a device id of five hex digits, e.g. vmax_volume.x.id"
                ),
            );
        }
    }

    async fn plan(&self, _ctx: &Ctx, plan: &mut Plan, diags: &mut Diags) {
        // the array serving the export follows the volume's active side
        let driver = self.shared.try_driver();
        let mut serving_driver: Option<&Driver> = None;
        if let Some(d) = &driver {
            match plan.planned.get("volume_id").as_str().map(String::from) {
                Some(vol) => {
                    match planned_serving(d, &vol, plan.planned.get("active_side").as_str()).await {
                        Ok((array, dev)) => {
                            plan.planned.set_attr("array", Value::string(&array));
                            plan.planned.set_attr("device_id", Value::string(&dev));
                            match driver_for(d, Some(&array)).await {
                                Ok(x) => serving_driver = Some(x),
                                Err(e) => report(diags, "Cannot reach the serving array", &e),
                            }
                            if array != d.array() && !plan.config.get("port_group").is_null() {
                                diags.error_at(AttrPath::attr("port_group"), "port_group names a local port group", format!("volume {vol} is failed over to array {array}: its exports use the replication's remote_port_groups; leave port_group unset for replicated volumes"));
                            }
                            if let Some(prior) = &plan.prior
                                && prior.get("array").as_str().is_some_and(|a| a != array)
                            {
                                plan.requires_replace.push(AttrPath::attr("array"));
                                if plan.config.get("port_group").is_null() {
                                    plan.planned.set_attr("port_group", Value::Null);
                                }
                            }
                        }
                        Err(e) => report(diags, "Cannot read the volume's replication", &e),
                    }
                }
                None => {
                    plan.unknown("array");
                    plan.unknown("device_id");
                }
            }
        }
        if plan.planned.get("port_group").is_null()
            || (plan.prior.is_none() && plan.planned.get("port_group").is_unknown())
        {
            match serving_driver.map(|d| d.pick_port_group(None)) {
                Some(Ok(pg)) => plan.planned.set_attr("port_group", Value::string(pg)),
                Some(Err(e)) => {
                    diags.error_at(AttrPath::attr("port_group"), "No port group", e.to_string())
                }
                None => plan.unknown("port_group"),
            }
            if let Some(prior) = &plan.prior
                && prior.get("port_group") != plan.planned.get("port_group")
            {
                plan.requires_replace.push(AttrPath::attr("port_group"));
            }
        }
        if plan.prior.is_some() && (plan.changed("multipath") || plan.changed("chap")) {
            plan.unknown("connection_info");
        }
        // refresh found the host without access but parts of the export
        // left: replace it (destroy finishes the removal, create redoes it)
        if let Some(prior) = &plan.prior
            && prior.get("host_lun_id").is_null()
        {
            for a in [
                "host_lun_id",
                "target_lun",
                "target_luns",
                "connection_info",
            ] {
                plan.unknown(a);
            }
            plan.requires_replace.push(AttrPath::attr("host_lun_id"));
        }
    }

    async fn create(&self, ctx: &Ctx, planned: &Value, diags: &mut Diags) -> Option<Value> {
        let d0 = self.shared.driver(diags)?;
        let mut s = self.state(planned, diags)?;
        let (array, dev) = match planned_serving(&d0, &s.volume_id, s.active_side.as_deref()).await
        {
            Ok(x) => x,
            Err(e) => {
                report(diags, "Cannot export volume", &e);
                return None;
            }
        };
        let d = match driver_for(&d0, Some(&array)).await {
            Ok(d) => d,
            Err(e) => {
                report(diags, "Cannot export volume", &e);
                return None;
            }
        };
        s.array = Some(array);
        s.device_id = Some(dev.clone());
        let pg = match d.pick_port_group(s.port_group.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                diags.error_at(AttrPath::attr("port_group"), "No port group", e.to_string());
                return None;
            }
        };
        let c = Connector {
            host: s.host.clone(),
            initiator: s.initiator.clone(),
        };
        let op = op(
            ctx,
            format!("exporting volume {} to {}", s.volume_id, s.host),
            super::volume::duration_or(
                s.timeouts.as_ref().and_then(|t| t.create.as_deref()),
                d.job_timeout(),
            ),
        );
        match d.initialize_connection(&op, &dev, &c, &pg).await {
            Ok(e) => {
                s.fill(&e);
                tracing::info!(volume = %s.volume_id, host = %s.host, lun = e.host_lun_id, view = %e.masking_view, "volume exported");
                Some(self.value(&s, diags))
            }
            Err(e) => {
                report(diags, "Cannot export volume", &e);
                None
            }
        }
    }

    async fn update(&self, _ctx: &Ctx, prior: &Value, planned: &Value, diags: &mut Diags) -> Value {
        // only multipath and chap change in place: they shape connection_info
        let (Some(old), Some(new)) = (self.state(prior, diags), self.state(planned, diags)) else {
            return prior.clone();
        };
        let mut s = old.clone();
        s.timeouts = new.timeouts.clone();
        s.multipath = new.multipath;
        s.chap = new.chap.clone();
        let lun = old.host_lun_id.unwrap_or(0) as u32;
        s.connection_info = Some(s.info(lun, &old.targets()));
        self.value(&s, diags)
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value, diags: &mut Diags) {
        let Some(d0) = self.shared.driver(diags) else {
            return;
        };
        let Some(s) = self.state(prior, diags) else {
            return;
        };
        let d = match driver_for(&d0, s.array.as_deref()).await {
            Ok(d) => d,
            Err(e) => {
                report(diags, "Cannot remove export", &e);
                return;
            }
        };
        let dev = s.device_id.clone().unwrap_or_else(|| s.volume_id.clone());
        let pg = s.port_group.clone().unwrap_or_default();
        let op = op(
            ctx,
            format!("removing the export of {} to {}", s.volume_id, s.host),
            super::volume::duration_or(
                s.timeouts.as_ref().and_then(|t| t.delete.as_deref()),
                d.job_timeout(),
            ),
        );
        if let Err(e) = d.terminate_connection(&op, &dev, &s.host, &pg).await {
            report(diags, "Cannot remove export", &e);
        }
    }

    async fn read(&self, _ctx: &Ctx, current: &Value, diags: &mut Diags) -> Option<Value> {
        let d0 = self.shared.driver(diags)?;
        let mut s = self.state(current, diags)?;
        let pg = s.port_group.clone()?;
        let d = match driver_for(&d0, s.array.as_deref()).await {
            Ok(d) => d,
            Err(e) => {
                report(diags, "Cannot read export", &e);
                return Some(current.clone());
            }
        };
        // exports recorded before the array was
        if s.array.is_none() {
            s.array = Some(d.array().to_string());
            s.device_id = Some(s.volume_id.clone());
        }
        let dev = s.device_id.clone().unwrap_or_else(|| s.volume_id.clone());
        match d.export_status(&dev, &s.host, &pg).await {
            Ok(ExportStatus::Visible { lun, child }) => {
                if s.host_lun_id != Some(lun as i64) {
                    tracing::warn!(volume = %s.volume_id, "host LUN changed on the array");
                }
                if let Ok(t) = d.targets(&pg).await {
                    s.set_targets(lun, &t);
                }
                if let Some(child) = child {
                    s.storage_group = Some(child);
                }
                Some(self.value(&s, diags))
            }
            Ok(ExportStatus::Broken) => {
                // objects of the export remain (a removal that stopped
                // part-way): keep it in state, without a LUN, so that the
                // plan replaces it and destroy finishes the removal
                tracing::warn!(volume = %s.volume_id, host = %s.host, "volume not visible to the host, but parts of the export remain");
                s.host_lun_id = None;
                Some(self.value(&s, diags))
            }
            Ok(ExportStatus::Gone) => {
                tracing::warn!(volume = %s.volume_id, host = %s.host, "export no longer exists; it will be re-created");
                None
            }
            Err(e) => {
                report(diags, "Cannot read export", &e);
                Some(current.clone())
            }
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str, diags: &mut Diags) -> Option<Value> {
        let d = self.shared.driver(diags)?;
        let Some((dev, host)) = id.split_once(':') else {
            diags.error("Invalid import id", format!("import a vmax_iscsi_export as <device id>:<host>, e.g. 0001A:compute-1, not {id:?}"));
            return None;
        };
        let dev = dev.to_ascii_uppercase();
        match d.find_export(&dev, host).await {
            Ok(Some((pg, ini))) => {
                let mut s = ExportState {
                    volume_id: dev.clone(),
                    host: host.to_string(),
                    initiator: ini.clone(),
                    multipath: true,
                    ..Default::default()
                };
                let c = Connector {
                    host: host.into(),
                    initiator: ini,
                };
                // already visible: this reads the view and LUN without changing anything
                match d
                    .initialize_connection(&Op::unbounded("importing an export"), &dev, &c, &pg)
                    .await
                {
                    Ok(e) => {
                        s.fill(&e);
                        Some(self.value(&s, diags))
                    }
                    Err(e) => {
                        report(diags, "Cannot import export", &e);
                        None
                    }
                }
            }
            Ok(None) => {
                diags.error("Cannot import export", format!("volume {dev} is not visible to host {host} through any masking view of its initiator group"));
                None
            }
            Err(e) => {
                diags.error("Cannot import export", e.to_string());
                None
            }
        }
    }
}

// ---- ephemeral vmax_iscsi_connection ------------------------------------------

/// `vmax_iscsi_connection`: the full connection properties of an existing
/// export, CHAP secret included, for ephemeral uses; never stored.
pub struct ConnectionEphemeral {
    shared: Arc<Shared>,
}

impl ConnectionEphemeral {
    pub fn new(shared: Arc<Shared>) -> Self {
        ConnectionEphemeral { shared }
    }
}

pub fn connection_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "The iSCSI connection properties of a volume exported to a host (by `vmax_iscsi_export`), with the CHAP secret when one is given: what a host needs to log in. Ephemeral (Terraform 1.10+): read at each run and never stored in plan or state, so the secret can pass to other ephemeral uses (provider configurations, write-only arguments, provisioners).".into(),
            attributes: vec![
                Attribute::required("volume_id", Ty::String, "Device id of the exported volume (for a failed-over replicated volume, the export of its twin is found)."),
                Attribute::required("host", Ty::String, "The host the volume is exported to."),
                Attribute::optional("multipath", Ty::Bool, "Whether to list every portal. Default `true`."),
                Attribute::optional("chap_username", Ty::String, "CHAP user name."),
                Attribute::optional("chap_secret", Ty::String, "CHAP secret (an ephemeral or sensitive value).").sensitive(),
                Attribute::computed("connection_info", Ty::String, "JSON of `{\"driver_volume_type\": \"iscsi\", \"data\": {...}}`, with `auth_password` when `chap_secret` is set.").sensitive(),
            ],
            blocks: vec![],
        },
    }
}

#[async_trait]
impl crate::tfplugin::EphemeralResource for ConnectionEphemeral {
    fn type_name(&self) -> &'static str {
        "vmax_iscsi_connection"
    }

    fn schema(&self) -> Schema {
        connection_schema()
    }

    async fn validate(&self, config: &Value, diags: &mut Diags) {
        if config.get("chap_secret").as_str().is_some() && config.get("chap_username").is_null() {
            diags.error_at(
                AttrPath::attr("chap_username"),
                "CHAP user name missing",
                "chap_secret needs chap_username",
            );
        }
    }

    async fn open(&self, _ctx: &Ctx, config: &Value, diags: &mut Diags) -> Option<Value> {
        let d0 = self.shared.driver(diags)?;
        let vol = config.get("volume_id").as_str()?.to_ascii_uppercase();
        let host = config.get("host").as_str()?.to_string();
        let r = async {
            let (array, dev) = serving(&d0, &vol).await?;
            let d = driver_for(&d0, Some(&array)).await?;
            let (pg, _) = d.find_export(&dev, &host).await?.ok_or_else(|| {
                DriverError::NotFound(format!(
                    "volume {dev} is not exported to host {host} on array {array}"
                ))
            })?;
            let lun = match d.export_status(&dev, &host, &pg).await? {
                ExportStatus::Visible { lun, .. } => lun,
                _ => {
                    return Err(DriverError::NotFound(format!(
                        "volume {dev} is not visible to host {host}"
                    )));
                }
            };
            let targets = d.targets(&pg).await?;
            Ok::<_, DriverError>((dev, lun, targets))
        }
        .await;
        let (dev, lun, targets) = match r {
            Ok(x) => x,
            Err(e) => {
                report(diags, "Cannot read the connection", &e);
                return None;
            }
        };
        let user = config.get("chap_username").as_str();
        let chap = user.map(|u| (u, config.get("chap_secret").as_str()));
        let multipath = config.get("multipath").as_bool().unwrap_or(true);
        let info = connection_info(&dev, lun, &targets, multipath, chap);
        let mut out = config.clone();
        out.set_attr("connection_info", Value::string(info.to_string()));
        Some(out)
    }
}
