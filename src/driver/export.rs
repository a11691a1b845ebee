//! initialize_connection / terminate_connection: masking views and the
//! iSCSI connection properties.
//!
//! Object model per host and port group, with the seed's names:
//! initiator group `OS-<host>-I-IG`, masking view `OS-<host>-I-<pg>-MV`,
//! its parent group `OS-<host>-I-<pg>-SG` (no service level) and child
//! groups per policy `OS-<host>-<srp>-<slo><workload>-<pg>`. The first host
//! a volume is exported to gets it moved out of its default group into that
//! host's policy child group (the seed's behaviour). The array allows a
//! volume in only one group with a service level, so each further host sees
//! it through its own no-SLO child group `OS-<host>-No_SLO-<pg>`.
//!
//! Ownership: an initiator group is used only when its initiators are
//! exactly the export's (two hosts whose names share the short name are
//! refused with a message, never given a view without access); a masking
//! view, parent or child group named like ours is used only when it is
//! wired as ours would be (same host, port group and parent). Removal is
//! resumable: every step leaves the array consistent, and a second run
//! finishes what the first could not (`export_status` reports the
//! leftovers so the resource stays in state until they are gone).

use super::naming::{self, Policy, short_host_name, short_port_group_name, truncate_middle};
use super::saga::{Saga, Undo, not_found_ok};
use super::{Driver, DriverError, Op, Result};
use crate::unisphere::StorageGroup;
use md5::Digest;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// Who connects: the seed's connector.
#[derive(Debug, Clone)]
pub struct Connector {
    pub host: String,
    pub initiator: String,
}

/// One iSCSI target portal of the port group.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub iqn: String,
    pub portal: String,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub masking_view: String,
    pub storage_group: String,
    pub parent_storage_group: String,
    pub initiator_group: String,
    pub port_group: String,
    pub host_lun_id: u32,
    pub targets: Vec<Target>,
}

/// Names of the export objects for one host and port group.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportNames {
    pub initiator_group: String,
    pub masking_view: String,
    pub parent: String,
    pub no_slo_child: String,
}

impl ExportNames {
    pub fn new(host: &str, port_group: &str) -> Self {
        let h = short_host_name(host);
        let pg = short_port_group_name(port_group);
        ExportNames {
            initiator_group: format!("OS-{h}-I-IG"),
            masking_view: format!("OS-{h}-I-{pg}-MV"),
            parent: format!("OS-{h}-I-{pg}-SG"),
            no_slo_child: format!("OS-{h}-No_SLO-{pg}"),
        }
    }

    /// The names of an export from its masking-view parent
    /// `OS-<host>-I-<pg>-SG`; `None` for a parent this provider did not name.
    pub fn from_parent(parent: &str) -> Option<(Self, String, String)> {
        let (h, pg) = parent
            .strip_prefix("OS-")?
            .strip_suffix("-SG")?
            .split_once("-I-")?;
        let names = ExportNames::new(h, pg);
        (names.parent == parent).then(|| (names, h.to_string(), pg.to_string()))
    }

    /// The locks that cover these objects.
    pub fn lock_names(&self) -> Vec<String> {
        vec![
            Driver::host_lock(&self.initiator_group),
            Driver::sg_lock(&self.parent),
            Driver::mv_lock(&self.masking_view),
        ]
    }

    /// The child group for a policy: the seed's `OS-<host>-<srp>-<slo+workload>-<pg>`,
    /// `-CD` when compression is disabled, and for host I/O limits `-Q`
    /// and 6 hex digits of the md5 of the policy's default group name (a
    /// child has no room for the readable form); the SRP part is shortened
    /// when the whole would pass 64 characters.
    pub fn child(host: &str, port_group: &str, p: &Policy) -> String {
        let h = short_host_name(host);
        let pg = short_port_group_name(port_group);
        match &p.slo {
            None => format!("OS-{h}-No_SLO-{pg}"),
            Some(slo) => {
                let sw =
                    truncate_middle(&format!("{slo}{}", p.workload.as_deref().unwrap_or("")), 10);
                let mut suffix = String::new();
                if p.compression == naming::Compression::Off {
                    suffix.push_str("-CD");
                }
                if p.replicated {
                    suffix.push_str("-RE");
                }
                if p.qos.is_some() {
                    let digest =
                        hex::encode(md5::Md5::digest(p.default_storage_group().as_bytes()));
                    suffix.push_str(&format!("-Q{}", &digest[..6]));
                }
                let room = 64 - format!("OS-{h}--{sw}-{pg}{suffix}").len();
                let srp = truncate_middle(&p.srp, room.min(12));
                format!("OS-{h}-{srp}-{sw}-{pg}{suffix}")
            }
        }
    }
}

/// An iSCSI name: `iqn.YYYY-MM.<reversed domain>[:<anything printable>]`
/// or `eui.` and 16 hex digits; never white space or control characters.
fn is_iscsi_name(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    if l.chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return false;
    }
    if let Some(rest) = l.strip_prefix("iqn.") {
        let b = rest.as_bytes();
        return b.len() > 8
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4] == b'-'
            && b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'.'
            && rest[8..].split(':').next().is_some_and(|d| {
                !d.is_empty()
                    && d.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            });
    }
    l.starts_with("eui.") && l.len() == 20 && l[4..].chars().all(|c| c.is_ascii_hexdigit())
}

pub fn check_initiator(s: &str) -> std::result::Result<(), String> {
    if is_iscsi_name(s) {
        Ok(())
    } else {
        Err(format!(
            "initiator {s:?} is not an iSCSI name: use the host's IQN (iqn.yyyy-mm.reverse.domain:identifier, no spaces) or an eui. name (eui. plus 16 hex digits)"
        ))
    }
}

/// A host name usable for the export's object names: labels of letters,
/// digits, `-` and `_` separated by dots, the first one not empty (it names
/// the initiator group `OS-<first label>-I-IG`).
pub fn check_host(h: &str) -> std::result::Result<(), String> {
    let ok = !h.is_empty()
        && h.len() <= 255
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !ok {
        return Err(format!(
            "host {h:?} must be a host name: labels of letters, digits, '-' and '_' separated by single dots, not starting or ending with a dot"
        ));
    }
    let names = ExportNames::new(h, "pg");
    naming::check_object_name("initiator group", &names.initiator_group)
}

/// Export objects this process found in place and wired as its own, per
/// (masking view, initiator): the initiator group, the children checked,
/// and the structure epoch of the check ([`crate::unisphere::Array::structure_epoch`]).
/// A hit spares an export in place its ownership reads; any removal of a
/// view, host, group or nesting by this process invalidates every entry.
/// When it was checked, the initiator group, the children checked.
type Checked = (u64, String, HashSet<String>);

#[derive(Default)]
pub struct InPlace {
    seen: std::sync::Mutex<HashMap<(String, String), Checked>>,
}

impl InPlace {
    fn get(&self, key: &(String, String), epoch: u64) -> Option<(String, HashSet<String>)> {
        let m = self.seen.lock().ok()?;
        m.get(key)
            .filter(|(e, ..)| *e == epoch)
            .map(|(_, ig, ch)| (ig.clone(), ch.clone()))
    }

    fn record(&self, key: (String, String), epoch: u64, ig: &str, child: &str) {
        if let Ok(mut m) = self.seen.lock() {
            let e = m
                .entry(key)
                .or_insert_with(|| (epoch, ig.to_string(), HashSet::new()));
            if e.0 != epoch || e.1 != ig {
                *e = (epoch, ig.to_string(), HashSet::new());
            }
            e.2.insert(child.to_string());
        }
    }
}

/// The export found more to do than its locks allow (it took only the
/// volume's, expecting to need only the membership): it starts over.
const NEEDS_ALL_LOCKS: &str = "export needs all its locks";

/// What the locked part of an export leaves to do.
enum Planned {
    /// The export is complete.
    Done(Export),
    /// Only the volume's membership is left: into `to` (out of `from`).
    Join {
        from: Option<String>,
        to: String,
        policy: Policy,
        export: Export,
    },
}

impl Planned {
    /// Only the membership left: into `child` (out of `from`), the export
    /// otherwise complete but for its LUN.
    fn join(
        names: &ExportNames,
        port_group: &str,
        from: Option<String>,
        child: String,
        policy: &Policy,
        ig: String,
        targets: Vec<Target>,
    ) -> Planned {
        Planned::Join {
            from,
            to: child.clone(),
            policy: policy.clone(),
            export: Export {
                masking_view: names.masking_view.clone(),
                storage_group: child,
                parent_storage_group: names.parent.clone(),
                initiator_group: ig,
                port_group: port_group.to_string(),
                host_lun_id: 0,
                targets,
            },
        }
    }
}

/// What the array says about one export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportStatus {
    /// The host sees the volume at this LUN, through `child`.
    Visible { lun: u32, child: Option<String> },
    /// The host does not see the volume, but objects of the export remain
    /// (a removal that stopped part-way, or a change made on the array).
    Broken,
    /// Nothing of the export is left.
    Gone,
}

impl Driver {
    /// The port group to use: the one asked for, else the first configured.
    pub fn pick_port_group(&self, asked: Option<&str>) -> Result<String> {
        match asked {
            Some(p) => Ok(p.to_string()),
            None => self.settings.port_groups.first().cloned().ok_or_else(|| {
                DriverError::invalid(
                    "port_group",
                    "no port group: set port_group on the export, or port_groups in the provider configuration",
                )
            }),
        }
    }

    /// The host LUN of a volume in a view, if it is visible there.
    pub async fn lun_in_view(&self, mv: &str, dev: &str) -> Result<Option<u32>> {
        Ok(self.api.lun(mv, dev).await?)
    }

    /// The target IQNs and portals of a port group's ports.
    pub async fn targets(&self, pg: &str) -> Result<Vec<Target>> {
        let group = self.api.port_group(pg).await?.ok_or_else(|| {
            DriverError::invalid(
                "port_group",
                format!(
                    "port group {pg} does not exist on array {}; port groups are created by the storage administrator, not by this provider",
                    self.settings.array
                ),
            )
        })?;
        let mut out = Vec::new();
        for k in &group.ports {
            let p = self.api.director_port(&k.director, k.port_number()).await?;
            for ip in &p.port.ip_addresses {
                out.push(Target {
                    iqn: p.target_iqn().to_string(),
                    portal: format!("{ip}:3260"),
                });
            }
        }
        if out.is_empty() {
            return Err(DriverError::invalid(
                "port_group",
                format!("port group {pg} has no iSCSI port with an IP address"),
            ));
        }
        Ok(out)
    }

    /// initialize_connection: makes `dev` visible to the connector's host
    /// through `port_group`, reusing this provider's view that already
    /// shows it. Refused, before any change, when an object named like
    /// ours belongs to someone else.
    pub async fn initialize_connection(
        &self,
        op: &Op,
        dev: &str,
        c: &Connector,
        port_group: &str,
    ) -> Result<Export> {
        check_initiator(&c.initiator).map_err(|m| DriverError::invalid("initiator", m))?;
        // the port group is never created: check it first
        let targets = self.targets(port_group).await?;
        let names = ExportNames::new(&c.host, port_group);
        let mut attempt = 0;
        let mut full = false;
        loop {
            attempt += 1;
            match self
                .export_once(op, dev, c, port_group, &names, targets.clone(), full)
                .await
            {
                // the objects changed meanwhile (the host's last other export
                // was removed, or more than the volume's membership is to
                // do): start over under every lock, making what is missing
                Err(DriverError::Array(e)) if attempt < 3 && e.is_not_found() => {
                    tracing::debug!(error = %e, "export objects changed meanwhile; starting over");
                    full = true;
                }
                Err(DriverError::Inconsistent(m)) if attempt < 3 && m == NEEDS_ALL_LOCKS => {
                    full = true;
                }
                r => return r,
            }
        }
    }

    /// One attempt of [`Driver::initialize_connection`].
    #[allow(clippy::too_many_arguments)]
    async fn export_once(
        &self,
        op: &Op,
        dev: &str,
        c: &Connector,
        port_group: &str,
        names: &ExportNames,
        targets: Vec<Target>,
        full: bool,
    ) -> Result<Export> {
        // the volume's lock first: an export whose objects are in place
        // needs no other, and reads the volume once
        let (guards, (v, init_host, all_locks, parent, assumed)) = self
            .lock_for_from(vec![Self::vol_lock(dev)], || async {
                let v = self.volume_in_one_read(dev).await?.ok_or_else(|| {
                    DriverError::NotFound(format!(
                        "volume {dev} does not exist on array {}",
                        self.settings.array
                    ))
                })?;
                let policy = self.policy_of(&v);
                let policy_child = ExportNames::child(&c.host, port_group, &policy);
                let (parent, fresh) = self.api.storage_group_noting(&names.parent).await?;
                // our view shows our parent: the initiator is taken to be in
                // our initiator group, which the export checks (`host_for`)
                // before using it, reading the initiator only when it is not
                let view_in_parent = parent
                    .as_ref()
                    .is_some_and(|p| p.maskingview.contains(&names.masking_view));
                let assumed = !full && view_in_parent;
                let init_host = if assumed {
                    Some(names.initiator_group.clone())
                } else {
                    self.api.initiator(&c.initiator).await?.and_then(|i| i.host)
                };
                // a host whose view, parent and child are in place (as this
                // process last read them) needs only the volume's membership:
                // the export checks them without the host's locks and the
                // membership is batched (`join_group`) under the child's lock
                let in_place = !full
                    && init_host.is_some()
                    && parent.as_ref().is_some_and(|p| {
                        p.maskingview.contains(&names.masking_view)
                            && (p.child_storage_group.contains(&policy_child)
                                || p.child_storage_group.contains(&names.no_slo_child))
                    });
                let mut n = vec![Self::vol_lock(dev)];
                if !in_place {
                    n.extend(names.lock_names());
                    n.extend([
                        Self::sg_lock(&policy_child),
                        Self::sg_lock(&names.no_slo_child),
                        Self::sg_lock(&policy.default_storage_group()),
                    ]);
                    if let Some(h) = &init_host {
                        n.push(Self::host_lock(h));
                    }
                }
                Ok((
                    n,
                    (v, init_host, !in_place, fresh.then_some(parent), assumed),
                ))
            })
            .await?;
        let mut saga = Saga::new();
        let r = self
            .export_steps(
                op,
                &mut saga,
                (&v, init_host, parent),
                c,
                port_group,
                names,
                targets,
                (all_locks, assumed),
            )
            .await;
        drop(guards);
        let r = match r {
            Ok(Planned::Done(e)) => Ok(e),
            // only the volume's membership is left to do: sent together
            // with the other exports waiting for the same move, the
            // host's locks released
            Ok(Planned::Join {
                from,
                to,
                policy,
                mut export,
            }) => {
                async {
                    op.check()?;
                    self.join_group(dev, from.as_deref(), &to).await?;
                    saga.did(match &from {
                        Some(f) => Undo::MoveBack {
                            dev: dev.into(),
                            from: to.clone(),
                            to: f.clone(),
                            policy: Some(policy),
                        },
                        None => Undo::RemoveFromGroup {
                            dev: dev.into(),
                            sg: to.clone(),
                        },
                    });
                    export.host_lun_id = self
                        .api
                        .lun(&export.masking_view, dev)
                        .await?
                        .ok_or_else(|| {
                            DriverError::Inconsistent(format!(
                                "volume {dev} is not visible in {} after export",
                                export.masking_view
                            ))
                        })?;
                    // the default group the move emptied (as its answer
                    // said, unless something touched it since) goes
                    if let Some(f) = &from {
                        let _g = self.locks.lock_many(&[Self::sg_lock(f)]).await;
                        self.drop_emptied_default(f).await;
                    }
                    Ok(export)
                }
                .await
            }
            Err(e) => Err(e),
        };
        saga.finish(self, r).await
    }

    /// Deletes a default group an export's move left empty; the caller
    /// holds its lock. A failure only leaves an empty group for the next
    /// delete or retype in it: it does not fail the export.
    async fn drop_emptied_default(&self, sg: &str) {
        if naming::is_default_group(sg)
            && let Err(e) = self.delete_group_if_unused_again(sg).await
        {
            tracing::warn!(storage_group = sg, error = %e, "could not delete the default group the export emptied");
        }
    }

    fn policy_of(&self, v: &super::VolumeInfo) -> Policy {
        v.policy
            .clone()
            .unwrap_or_else(|| Policy::new(&self.settings.srp, None, None))
    }

    /// The initiator group for a connector, given the host its initiator
    /// is in (read under the export's locks): that host when it holds
    /// exactly the initiator, else ours (`None` when it must be made).
    async fn host_for(
        &self,
        c: &Connector,
        names: &ExportNames,
        init_host: Option<String>,
    ) -> Result<Option<String>> {
        if let Some(h) = init_host {
            let host = self.api.host(&h).await?.ok_or_else(|| {
                DriverError::Inconsistent(format!(
                    "initiator {} names host {h}, which does not exist",
                    c.initiator
                ))
            })?;
            if !host.holds_exactly(&[&c.initiator]) {
                return Err(DriverError::Conflict(format!(
                    "initiator {} is in initiator group {h} together with other initiators ({}); this provider uses an initiator group only when it holds exactly the export's initiator. Remove the other initiators from {h} on the array, or export through that group with the tool that made it",
                    c.initiator,
                    host.initiator
                        .iter()
                        .filter(|i| !i.eq_ignore_ascii_case(&c.initiator))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            return Ok(Some(h));
        }
        if let Some(h) = self.api.host(&names.initiator_group).await? {
            // made meanwhile by a parallel export (another workspace) for
            // this very initiator: usable, and not ours to undo
            if h.holds_exactly(&[&c.initiator]) {
                return Ok(Some(names.initiator_group.clone()));
            }
            return Err(DriverError::Conflict(format!(
                "initiator group {} already exists for other initiators ({}), so host {:?} cannot use it. Host names are shortened to their first label ({:?}), and another host with the same first label is exported already. Set `host` to a name whose first label is unique (for example {:?}); nothing was changed",
                names.initiator_group,
                h.initiator.join(", "),
                c.host,
                short_host_name(&c.host),
                c.host.replacen('.', "-", 1)
            )));
        }
        Ok(None)
    }

    #[allow(clippy::too_many_arguments)]
    async fn export_steps(
        &self,
        op: &Op,
        saga: &mut Saga,
        (v, init_host, read_parent): (
            &super::VolumeInfo,
            Option<String>,
            Option<Option<StorageGroup>>,
        ),
        c: &Connector,
        port_group: &str,
        names: &ExportNames,
        targets: Vec<Target>,
        (all_locks, assumed): (bool, bool),
    ) -> Result<Planned> {
        let dev = v.device_id.as_str();
        let policy = self.policy_of(v);
        let policy_child = ExportNames::child(&c.host, port_group, &policy);
        let default_group = policy.default_storage_group();
        let in_default = v.policy_group.as_deref() == Some(default_group.as_str())
            || (policy.slo.is_none() && v.storage_groups.contains(&default_group));
        // checked in place by this process, with no removal since: only
        // the membership is left (a volume in one of the children already
        // goes the long way, which finds its LUN)
        let epoch = self.api.structure_epoch();
        let memo_key = (names.masking_view.clone(), c.initiator.to_ascii_lowercase());
        if !all_locks && let Some((ig, children)) = self.in_place.get(&memo_key, epoch) {
            let child = if in_default || v.policy_group.is_none() {
                policy_child.clone()
            } else {
                names.no_slo_child.clone()
            };
            let already = v
                .storage_groups
                .iter()
                .any(|g| *g == policy_child || *g == names.no_slo_child);
            if !already && children.contains(&child) && init_host.as_deref() == Some(ig.as_str()) {
                let from = (child == policy_child && in_default).then(|| default_group.clone());
                return Ok(Planned::join(
                    names, port_group, from, child, &policy, ig, targets,
                ));
            }
        }
        let existing_host = match self.host_for(c, names, init_host).await {
            // the initiator was taken to be in our group and is not: start
            // over reading it (`full`), under the locks that then asks
            Err(_) | Ok(None) if assumed => {
                return Err(DriverError::Inconsistent(NEEDS_ALL_LOCKS.into()));
            }
            r => r?,
        };
        let ig = existing_host
            .clone()
            .unwrap_or_else(|| names.initiator_group.clone());
        // a view named like ours must be wired like ours
        let view = self.api.masking_view(&names.masking_view).await?;
        if let Some(mv) = &view
            && (mv.host.as_deref() != Some(ig.as_str())
                || mv.port_group != port_group
                || mv.storage_group != names.parent)
        {
            return Err(DriverError::Conflict(format!(
                "masking view {} exists but shows host {} through port group {} with storage group {}; this provider did not make it (it would show {ig} through {port_group} with {}). Remove or rename that view on the array, or use another host name",
                names.masking_view,
                mv.host
                    .as_deref()
                    .or(mv.host_group.as_deref())
                    .unwrap_or("?"),
                mv.port_group,
                mv.storage_group,
                names.parent
            )));
        }
        // the parent as the plan read it from the array just now, or afresh
        let parent = match read_parent {
            Some(p) => p,
            None => self.api.storage_group(&names.parent).await?,
        };
        if let Some(p) = &parent
            && (p.service_level().is_some()
                || p.maskingview.iter().any(|m| *m != names.masking_view)
                || p.child_storage_group
                    .iter()
                    .any(|ch| !ch.starts_with(&format!("OS-{}-", short_host_name(&c.host)))))
        {
            return Err(DriverError::Conflict(format!(
                "storage group {} exists but is not this provider's masking-view parent for host {:?} (service level {:?}, views {:?}, children {:?}); nothing was changed",
                names.parent, c.host, p.slo, p.maskingview, p.child_storage_group
            )));
        }
        // already visible through our view? (only through one of its children)
        let in_child = parent.as_ref().is_some_and(|p| {
            p.child_storage_group
                .iter()
                .any(|ch| v.storage_groups.contains(ch))
        });
        if view.is_some()
            && in_child
            && let Some(lun) = self.api.lun(&names.masking_view, dev).await?
        {
            let child = v
                .storage_groups
                .iter()
                .find(|g| **g == policy_child || **g == names.no_slo_child)
                .cloned()
                .unwrap_or(policy_child);
            return Ok(Planned::Done(Export {
                masking_view: names.masking_view.clone(),
                storage_group: child,
                parent_storage_group: names.parent.clone(),
                initiator_group: ig,
                port_group: port_group.to_string(),
                host_lun_id: lun,
                targets,
            }));
        }
        // where the volume goes: the policy child if it still has its
        // service level from its default group, else the no-SLO child
        // a volume still in one of this host's child groups (its view was
        // deleted on the array) goes back through that group
        let already = v
            .storage_groups
            .iter()
            .find(|g| **g == policy_child || **g == names.no_slo_child)
            .cloned();
        let child = match &already {
            Some(c) => c.clone(),
            None if in_default || v.policy_group.is_none() => policy_child.clone(),
            None => names.no_slo_child.clone(),
        };
        let foreign_child = |g: &StorageGroup| {
            (g.parent_storage_group.iter().any(|p| *p != names.parent)
                || !g.maskingview.iter().all(|m| *m == names.masking_view))
            .then(|| {
                DriverError::Conflict(format!(
                    "storage group {child} exists but belongs to another masking view ({:?}, parents {:?}); nothing was changed",
                    g.maskingview, g.parent_storage_group
                ))
            })
        };
        // without a parent there is no child of ours yet: it is made below
        // (and read only if it turns out to exist)
        let child_group = if parent.is_none() && already.is_none() {
            None
        } else {
            self.api.storage_group(&child).await?
        };
        if let Some(e) = child_group.as_ref().and_then(foreign_child) {
            return Err(e);
        }
        let child_policy = if child == policy_child {
            policy.clone()
        } else {
            Policy::new(&policy.srp, None, None)
        };
        // everything is in place but the volume's membership: that part
        // is left to the caller, which batches it (Joins)
        if view.is_some()
            && existing_host.is_some()
            && child_group.is_some()
            && already.is_none()
            && parent
                .as_ref()
                .is_some_and(|p| p.child_storage_group.contains(&child))
        {
            let from = (child == policy_child && in_default).then(|| default_group.clone());
            self.in_place.record(memo_key, epoch, &ig, &child);
            return Ok(Planned::join(
                names, port_group, from, child, &policy, ig, targets,
            ));
        }

        // more than the membership to do: that needs every lock
        if !all_locks {
            return Err(DriverError::Inconsistent(NEEDS_ALL_LOCKS.into()));
        }
        op.check()?;
        if existing_host.is_none() {
            match self.api.create_host(&ig, &[&c.initiator]).await {
                Ok(()) => saga.did(Undo::DeleteHost { host: ig.clone() }),
                // made meanwhile by a parallel export (another workspace):
                // usable when it holds exactly this initiator, and not ours to undo
                Err(e) if e.status() == Some(409) => {
                    let h = self.api.host(&ig).await?;
                    if !h.is_some_and(|h| h.holds_exactly(&[&c.initiator])) {
                        return Err(made_meanwhile(e, "initiator group", &ig));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        op.check()?;
        if child_group.is_none() {
            if self.make_group(&child, Some(&child_policy)).await? {
                saga.did(Undo::DeleteGroup { sg: child.clone() });
            } else if let Some(e) = self
                .api
                .storage_group(&child)
                .await?
                .as_ref()
                .and_then(foreign_child)
            {
                return Err(e);
            }
        }
        op.check()?;
        let nested = match &parent {
            Some(p) => p.child_storage_group.contains(&child),
            None => {
                if self.make_group(&names.parent, None).await? {
                    saga.did(Undo::DeleteGroup {
                        sg: names.parent.clone(),
                    });
                    false
                } else {
                    // made meanwhile by a parallel export: read what it holds
                    self.api
                        .storage_group(&names.parent)
                        .await?
                        .is_some_and(|p| p.child_storage_group.contains(&child))
                }
            }
        };
        if !nested {
            op.check()?;
            self.api.add_child(&names.parent, &child).await?;
            saga.did(Undo::Unnest {
                parent: names.parent.clone(),
                child: child.clone(),
            });
        }
        if already.is_none() {
            op.check()?;
            if child == policy_child && in_default {
                self.move_volume(dev, &default_group, &child).await?;
                saga.did(Undo::MoveBack {
                    dev: dev.into(),
                    from: child.clone(),
                    to: default_group.clone(),
                    policy: Some(policy.clone()),
                });
                // decided on the move's answer (an undo makes it again)
                self.drop_emptied_default(&default_group).await;
            } else {
                self.api.add_volumes(&child, &[dev]).await?;
                saga.did(Undo::RemoveFromGroup {
                    dev: dev.into(),
                    sg: child.clone(),
                });
            }
        }
        if view.is_none() {
            op.check()?;
            match self
                .api
                .create_masking_view(&names.masking_view, &ig, port_group, &names.parent)
                .await
            {
                Ok(()) => saga.did(Undo::DeleteView {
                    mv: names.masking_view.clone(),
                }),
                // made meanwhile: usable when wired as ours, not ours to undo
                Err(e) if e.status() == Some(409) => {
                    let v = self.api.masking_view(&names.masking_view).await?;
                    if !v.is_some_and(|v| {
                        v.host.as_deref() == Some(ig.as_str())
                            && v.port_group == port_group
                            && v.storage_group == names.parent
                    }) {
                        return Err(made_meanwhile(e, "masking view", &names.masking_view));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let lun = self
            .api
            .lun(&names.masking_view, dev)
            .await?
            .ok_or_else(|| {
                DriverError::Inconsistent(format!(
                    "volume {dev} is not visible in {} after export",
                    names.masking_view
                ))
            })?;
        self.in_place.record(memo_key, epoch, &ig, &child);
        Ok(Planned::Done(Export {
            masking_view: names.masking_view.clone(),
            storage_group: child,
            parent_storage_group: names.parent.clone(),
            initiator_group: ig,
            port_group: port_group.to_string(),
            host_lun_id: lun,
            targets,
        }))
    }

    /// Removes a child when it is empty; says whether it did (the caller
    /// then removes the view, parent and host with `cleanup_parent` once no
    /// child is left). Caller holds the locks of `names` and of the child.
    pub(crate) async fn cleanup_export_objects(
        &self,
        names: &ExportNames,
        child: &str,
    ) -> Result<bool> {
        if let Some(g) = self.api.storage_group_after_change(child).await?
            && g.num_of_vols == 0
        {
            if g.parent_storage_group.contains(&names.parent) {
                self.api.remove_child(&names.parent, child).await?;
            }
            not_found_ok(self.api.delete_storage_group(child).await)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The view, parent and host of an export once no child is left.
    pub(crate) async fn cleanup_parent(&self, names: &ExportNames) -> Result<()> {
        if let Some(p) = self.api.storage_group_after_change(&names.parent).await?
            && p.child_storage_group.is_empty()
            && p.num_of_vols == 0
        {
            // the parent's own view list names the views that show it: a
            // view named like ours that shows another group is not in it
            if p.maskingview.contains(&names.masking_view) {
                not_found_ok(self.api.delete_masking_view(&names.masking_view).await)?;
            }
            // shown by no other view (the array refuses deleting a group in one)
            if p.maskingview.iter().all(|m| *m == names.masking_view) {
                not_found_ok(self.api.delete_storage_group(&names.parent).await)?;
            }
        }
        if let Some(h) = self.api.host(&names.initiator_group).await?
            && h.num_of_masking_views == 0
            && h.maskingview.is_empty()
        {
            not_found_ok(self.api.delete_host(&names.initiator_group).await)?;
        }
        Ok(())
    }

    /// terminate_connection: only this host loses access. The volume goes
    /// back to its default group when it leaves the group that gave it its
    /// service level; emptied export objects are removed. Resumable: run
    /// again after a failure, it finishes the removal, even when the volume
    /// has left the view already or is gone.
    pub async fn terminate_connection(
        &self,
        op: &Op,
        dev: &str,
        host: &str,
        port_group: &str,
    ) -> Result<()> {
        let names = ExportNames::new(host, port_group);
        let (_guards, (v, parent)) = self
            .lock_for(|| async {
                let v = self.get_volume(dev).await?;
                let parent = self.api.storage_group(&names.parent).await?;
                let mut n = names.lock_names();
                n.push(Self::vol_lock(dev));
                if let Some(p) = &parent {
                    n.extend(p.child_storage_group.iter().map(|c| Self::sg_lock(c)));
                }
                if let Some(v) = &v {
                    let p = self.policy_of(v);
                    n.push(Self::sg_lock(&p.default_storage_group()));
                    // this host's children by name (one may sit un-nested)
                    n.push(Self::sg_lock(&ExportNames::child(host, port_group, &p)));
                    n.push(Self::sg_lock(&names.no_slo_child));
                }
                Ok((n, (v, parent)))
            })
            .await?;
        let children = parent
            .as_ref()
            .map(|p| p.child_storage_group.clone())
            .unwrap_or_default();
        // a view named like ours that shows another group is not ours; the
        // parent's own view list settles it without reading the view
        if !parent
            .as_ref()
            .is_some_and(|p| p.maskingview.contains(&names.masking_view))
            && let Some(mv) = self.api.masking_view(&names.masking_view).await?
            && mv.storage_group != names.parent
        {
            return Err(DriverError::Conflict(format!(
                "masking view {} shows storage group {}, not {}; this provider did not make it and leaves it alone",
                names.masking_view, mv.storage_group, names.parent
            )));
        }
        // the children the volume is in; also one of this host's child
        // names it sits in un-nested (a removal stopped after unnesting it)
        let left: Vec<String> = match &v {
            Some(v) => {
                let mine = [
                    ExportNames::child(host, port_group, &self.policy_of(v)),
                    names.no_slo_child.clone(),
                ];
                v.storage_groups
                    .iter()
                    .filter(|g| children.contains(g) || mine.contains(g))
                    .cloned()
                    .collect()
            }
            None => vec![],
        };
        // children that became the volume's default group (`move_home`)
        let mut renamed: Vec<&String> = Vec::new();
        if let Some(v) = &v {
            for child in &left {
                op.check()?;
                if v.policy_group.as_deref() == Some(child.as_str()) {
                    let p = self.policy_of(v);
                    let alone = v.group(child).is_some_and(|g| g.num_of_vols == 1);
                    let nested = children.contains(child);
                    if self
                        .move_home(
                            dev,
                            child,
                            &p,
                            alone.then_some((names.parent.as_str(), nested)),
                        )
                        .await?
                    {
                        renamed.push(child);
                    }
                } else {
                    self.api.remove_volumes(child, &[dev]).await?;
                }
            }
        }
        // the children this volume left may be empty now; when it was in
        // none (a removal run again after a failure), any child may be
        let emptied = if left.is_empty() { &children } else { &left };
        let mut removed = renamed.len();
        for child in emptied {
            op.check()?;
            if !renamed.contains(&child) && self.cleanup_export_objects(&names, child).await? {
                removed += 1;
            }
        }
        if left.is_empty() || removed == children.len() {
            self.cleanup_parent(&names).await?;
        } else {
            tracing::debug!(parent = %names.parent, "other children remain: the view stays");
        }
        Ok(())
    }

    /// Moves a volume from an export child back into its policy's default
    /// group, making the group when it is missing. When the volume is the
    /// child's only one (`parent` given, with whether the child is still
    /// nested in it) and the default group is missing,
    /// the child itself (made for the same policy) leaves the parent and
    /// takes the default group's name: two requests instead of five, and
    /// `true` says the child is gone. Caller holds the locks of both groups
    /// and of the parent.
    async fn move_home(
        &self,
        dev: &str,
        child: &str,
        p: &Policy,
        parent: Option<(&str, bool)>,
    ) -> Result<bool> {
        let default = p.default_storage_group();
        match self.move_volume(dev, child, &default).await {
            Err(DriverError::Array(e)) if naming::names_missing_group(&e, &default) => {
                if let Some((parent, nested)) = parent {
                    // unnested first: a stop before the rename leaves the
                    // volume in a child of this host's name, which the next
                    // removal finds and finishes
                    if nested {
                        self.api.remove_child(parent, child).await?;
                    }
                    match self.api.rename_storage_group(child, &default).await {
                        Ok(()) => return Ok(true),
                        // made meanwhile, say: the volume moves into it
                        Err(e) => {
                            tracing::debug!(error = %e, child, "could not rename the child; moving the volume instead")
                        }
                    }
                }
                self.make_group(&default, Some(p)).await?;
                self.move_volume(dev, child, &default).await?;
                Ok(false)
            }
            other => other.map(|()| false),
        }
    }

    /// Where an export stands on the array (for refresh).
    pub async fn export_status(
        &self,
        dev: &str,
        host: &str,
        port_group: &str,
    ) -> Result<ExportStatus> {
        let names = ExportNames::new(host, port_group);
        if let Some(lun) = self.api.lun(&names.masking_view, dev).await? {
            // the child from what this command has read already: the
            // parent as last read, the volume from the refresh's bulk read
            let groups = match self.refresh_volume(dev).await? {
                Some(v) => v.storage_groups,
                None => vec![],
            };
            let child = self
                .api
                .storage_group_cached(&names.parent)
                .await?
                .and_then(|p| {
                    p.child_storage_group
                        .into_iter()
                        .find(|c| groups.contains(c))
                });
            return Ok(ExportStatus::Visible { lun, child });
        }
        let view = self.api.masking_view(&names.masking_view).await?;
        let parent = self.api.storage_group(&names.parent).await?;
        let idle_host = self
            .api
            .host(&names.initiator_group)
            .await?
            .is_some_and(|h| h.num_of_masking_views == 0 && h.maskingview.is_empty());
        // leftovers of this export (a removal that stopped part-way), or a
        // view that lives on for other volumes while this one left it
        Ok(if parent.is_some() || view.is_some() || idle_host {
            ExportStatus::Broken
        } else {
            ExportStatus::Gone
        })
    }

    /// Finds the export of `dev` to `host` (for import): port group and initiator.
    pub async fn find_export(&self, dev: &str, host: &str) -> Result<Option<(String, String)>> {
        let ig = format!("OS-{}-I-IG", short_host_name(host));
        for mv in self.api.masking_views_of_host(&ig).await? {
            if self.api.lun(&mv, dev).await?.is_some()
                && let Some(view) = self.api.masking_view(&mv).await?
            {
                let h = self.api.host(&ig).await?.unwrap_or_default();
                let ini = h.initiator.first().cloned().unwrap_or_default();
                return Ok(Some((view.port_group, ini)));
            }
        }
        Ok(None)
    }
}

/// A 409 on a create, for an object made meanwhile but not as ours would be.
fn made_meanwhile(e: crate::unisphere::Error, what: &str, name: &str) -> DriverError {
    DriverError::Conflict(format!(
        "{what} {name} was made by someone else at the same moment, differently from this export ({e}); nothing of this export was kept"
    ))
}

/// The seed's `connection_info`: `{"driver_volume_type": "iscsi", "data": {...}}`.
pub fn connection_info(
    dev: &str,
    lun: u32,
    targets: &[Target],
    multipath: bool,
    chap: Option<(&str, Option<&str>)>,
) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("target_discovered".into(), json!(true));
    if let Some(t) = targets.first() {
        data.insert("target_iqn".into(), json!(t.iqn));
        data.insert("target_portal".into(), json!(t.portal));
    }
    data.insert("target_lun".into(), json!(lun));
    data.insert("volume_id".into(), json!(dev));
    if multipath && targets.len() > 1 {
        data.insert(
            "target_iqns".into(),
            json!(targets.iter().map(|t| &t.iqn).collect::<Vec<_>>()),
        );
        data.insert(
            "target_portals".into(),
            json!(targets.iter().map(|t| &t.portal).collect::<Vec<_>>()),
        );
        data.insert("target_luns".into(), json!(vec![lun; targets.len()]));
    }
    if let Some((u, p)) = chap {
        data.insert("auth_method".into(), json!("CHAP"));
        data.insert("auth_username".into(), json!(u));
        if let Some(p) = p {
            data.insert("auth_password".into(), json!(p));
        }
    }
    json!({"driver_volume_type": "iscsi", "data": Value::Object(data)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed() {
        let n = ExportNames::new("compute-1.example.com", "OS-iscsi-PG");
        assert_eq!(n.initiator_group, "OS-compute-1-I-IG");
        assert_eq!(n.masking_view, "OS-compute-1-I-OS-iscsi-PG-MV");
        assert_eq!(n.parent, "OS-compute-1-I-OS-iscsi-PG-SG");
        let (back, h, pg) = ExportNames::from_parent(&n.parent).unwrap();
        assert_eq!(
            (back, h.as_str(), pg.as_str()),
            (n.clone(), "compute-1", "OS-iscsi-PG")
        );
        assert!(ExportNames::from_parent("their_parent_sg").is_none());
        let p = Policy::new("SRP_1", Some("Diamond"), Some("DSS"));
        assert_eq!(
            ExportNames::child("compute-1", "OS-iscsi-PG", &p),
            "OS-compute-1-SRP_1-DiamondDSS-OS-iscsi-PG"
        );
        let p = Policy::new("SRP_1", Some("Platinum"), Some("OLTP_REP"));
        assert_eq!(
            ExportNames::child("h", "pg", &p),
            "OS-h-SRP_1-PlatiP_REP-pg"
        );
        assert_eq!(
            ExportNames::child("h", "pg", &Policy::new("SRP_1", None, None)),
            "OS-h-No_SLO-pg"
        );
        // compression and limits follow the policy; the longest fit
        let q = naming::Qos {
            max_iops: Some(5000),
            max_mbps: None,
            distribution: naming::Distribution::Never,
        };
        let p = Policy::new("SRP_1", Some("Diamond"), Some("DSS"));
        assert_eq!(
            ExportNames::child("h", "pg", &p.clone().with(naming::Compression::Off, None)),
            "OS-h-SRP_1-DiamondDSS-pg-CD"
        );
        let with_q = ExportNames::child(
            "h",
            "pg",
            &p.clone().with(naming::Compression::Default, Some(q)),
        );
        assert!(with_q.starts_with("OS-h-SRP_1-DiamondDSS-pg-Q"), "{with_q}");
        assert_eq!(with_q.len(), "OS-h-SRP_1-DiamondDSS-pg-Q".len() + 6);
        let other = naming::Qos {
            max_iops: Some(5100),
            ..q
        };
        assert_ne!(
            with_q,
            ExportNames::child(
                "h",
                "pg",
                &p.clone().with(naming::Compression::Default, Some(other))
            )
        );
        let long = ExportNames::child(
            "averyveryverylonghostname",
            "OS-a-very-long-port-group",
            &Policy::new("SRP_LONG_NAME_1", Some("Platinum"), Some("OLTP_REP"))
                .with(naming::Compression::Off, Some(q)),
        );
        assert!(long.len() <= 64, "{long}");
    }

    #[test]
    fn initiators_are_checked() {
        assert!(check_initiator("iqn.1993-08.org.debian:01:abc").is_ok());
        assert!(check_initiator("eui.02004567A425678D").is_ok());
        assert!(check_initiator("10000090fa1b2c3d").is_err());
        assert!(check_initiator("iqn.").is_err());
        assert!(check_initiator("iqn.1993-08.org.debian:01:a b").is_err());
        assert!(check_initiator("iqn.1993-08.org.debian").is_ok());
        assert!(check_host("web1.example.com").is_ok());
        for bad in [".web1", "web1..x", "web 1", "web1.", "a/b"] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn connection_info_matches_the_seed_shape() {
        let t = vec![
            Target {
                iqn: "iqn.a".into(),
                portal: "192.0.2.10:3260".into(),
            },
            Target {
                iqn: "iqn.b".into(),
                portal: "192.0.2.11:3260".into(),
            },
        ];
        let single = connection_info("0001A", 1, &t, false, None);
        assert_eq!(
            single,
            json!({"driver_volume_type": "iscsi", "data": {"target_discovered": true, "target_iqn": "iqn.a", "target_portal": "192.0.2.10:3260", "target_lun": 1, "volume_id": "0001A"}})
        );
        let multi = connection_info("0001A", 2, &t, true, Some(("u", Some("s"))));
        assert_eq!(multi["data"]["target_luns"], json!([2, 2]));
        assert_eq!(
            multi["data"]["target_portals"],
            json!(["192.0.2.10:3260", "192.0.2.11:3260"])
        );
        assert_eq!(multi["data"]["auth_method"], "CHAP");
    }
}
