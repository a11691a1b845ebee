//! SRDF/S replication (the seed's "volume replication"): a replicated
//! volume has a twin with the same identifier on the remote array, in the
//! remote policy's `-RE` group, paired with it (synchronous, established)
//! in the RDF group found by its label.
//!
//! Every operation here either finishes or undoes what it did: a create
//! that fails after making the twin deletes the pair and the twin before
//! the local volume; enabling undoes the same way; failover, failback and
//! extend leave the pair in a state the next refresh reports truthfully.
//! The twin is made and removed by the remote array's own [`Driver`]
//! ([`Driver::remote`]), so the remote side has the same ownership checks,
//! locks and sagas as the local one.

use super::saga::Saga;
use super::{Driver, DriverError, Op, Policy, Result, VolumeInfo, naming};
use crate::unisphere::RdfPair;
use crate::unisphere::poll::{Pace, Step, poll};
use std::time::Duration;

/// The provider's `replication` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    pub remote_array: String,
    pub remote_srp: String,
    pub remote_port_groups: Vec<String>,
    pub rdf_group_label: String,
    pub allow_extend: bool,
}

/// Which array serves a replicated volume's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Local,
    Remote,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Local => "local",
            Side::Remote => "remote",
        }
    }
}

/// A volume's SRDF pair as the array reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub group: u32,
    pub remote_array: String,
    pub remote_device: String,
    /// `SyncInProg`, `Synchronized`, `Suspended`, `Split`, `Failed Over`...
    pub state: String,
    /// This side is the pair's R1.
    pub r1: bool,
}

impl Pair {
    fn from(n: u32, p: RdfPair) -> Pair {
        Pair {
            group: if p.group == 0 { n } else { p.group },
            remote_array: p.remote_array,
            remote_device: p.remote_device,
            state: p.state,
            r1: !p.config.starts_with("RDF2"),
        }
    }

    /// The array whose device serves I/O: the remote one once failed over.
    pub fn active_side(&self) -> Side {
        if self.state == "Failed Over" {
            Side::Remote
        } else {
            Side::Local
        }
    }

    fn copying(&self) -> bool {
        self.state == "Synchronized" || self.state == "SyncInProg"
    }
}

impl Driver {
    pub fn replication(&self) -> Option<&Replication> {
        self.settings.replication.as_ref()
    }

    fn replication_or_err(&self) -> Result<&Replication> {
        self.replication().ok_or_else(|| {
            DriverError::invalid(
                "replicated",
                "replication needs the provider's `replication` block (remote_array, rdf_group_label, remote_srp, remote_port_groups); add it to the provider configuration",
            )
        })
    }

    /// The remote array's driver (connected at first use).
    pub async fn remote(&self) -> Result<&Driver> {
        let r = self.replication_or_err()?.clone();
        let d = self
            .remote
            .get_or_try_init(|| async {
                let settings = super::Settings {
                    array: r.remote_array.clone(),
                    srp: r.remote_srp.clone(),
                    port_groups: r.remote_port_groups.clone(),
                    replication: None,
                };
                Driver::connect(self.cfg.clone(), settings)
                    .await
                    .map(Box::new)
                    .map_err(|e| {
                        DriverError::invalid(
                            "replication.remote_array",
                            format!(
                                "the replication's remote array {} cannot be used: {e}",
                                r.remote_array
                            ),
                        )
                    })
            })
            .await?;
        Ok(d)
    }

    /// The RDF group named by the replication's label, checked to point
    /// at the remote array (read once per process).
    pub async fn rdf_group_number(&self) -> Result<u32> {
        let r = self.replication_or_err()?.clone();
        let n = self
            .rdf_group
            .get_or_try_init(|| async {
                let groups = self.api.rdf_groups().await?;
                let Some(g) = groups.iter().find(|g| g.label == r.rdf_group_label) else {
                    return Err(DriverError::invalid(
                        "replication.rdf_group_label",
                        format!(
                            "array {} has no RDF group labelled {:?}; its RDF groups are: {}",
                            self.array(),
                            r.rdf_group_label,
                            if groups.is_empty() {
                                "none".to_string()
                            } else {
                                groups
                                    .iter()
                                    .map(|g| format!("{} ({})", g.label, g.number))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }
                        ),
                    ));
                };
                if let Some(remote) = &g.remote_symmetrix_id
                    && *remote != r.remote_array
                {
                    return Err(DriverError::invalid(
                        "replication.remote_array",
                        format!(
                            "RDF group {:?} ({}) on array {} connects to array {remote}, not to the configured remote_array {}",
                            g.label,
                            g.number,
                            self.array(),
                            r.remote_array
                        ),
                    ));
                }
                Ok(g.number)
            })
            .await?;
        Ok(*n)
    }

    /// Plan-time check of the replication settings: the remote array is
    /// managed by this Unisphere and the RDF group exists and points at it.
    pub async fn check_replication(&self) -> Result<()> {
        self.rdf_group_number().await?;
        self.remote().await?;
        Ok(())
    }

    /// The pair of `dev`, if it is paired in the replication's RDF group.
    pub async fn pair(&self, dev: &str) -> Result<Option<Pair>> {
        let n = self.rdf_group_number().await?;
        Ok(self.api.rdf_pair(n, dev).await?.map(|p| Pair::from(n, p)))
    }

    /// The remote policy of a local one: same service level and settings,
    /// in the remote SRP.
    fn remote_policy(&self, p: &Policy) -> Result<Policy> {
        let r = self.replication_or_err()?;
        let mut rp = p.clone().replicated(true);
        rp.srp = r.remote_srp.clone();
        Ok(rp)
    }

    /// Waits until the pair of `dev` is in one of `want` (states take time,
    /// like jobs), within the operation's deadline.
    async fn wait_pair(&self, op: &Op, dev: &str, want: &[&str]) -> Result<Pair> {
        let n = self.rdf_group_number().await?;
        let pace = Pace::new(
            Duration::from_millis(100),
            self.api.client.pace().max.max(Duration::from_millis(100)),
        );
        let deadline = op.deadline();
        let found = poll(pace, deadline, || async {
            op.check()?;
            match self.api.rdf_pair(n, dev).await? {
                Some(p) if want.contains(&p.state.as_str()) => Ok(Step::Done(Pair::from(n, p))),
                Some(_) => Ok(Step::Wait(None)),
                None => Err(DriverError::NotFound(format!(
                    "the RDF pair of volume {dev} is gone"
                ))),
            }
        })
        .await?;
        match found {
            Some(p) => Ok(p),
            None => {
                let now = self.api.rdf_pair(n, dev).await?;
                tracing::warn!(
                    device = dev,
                    want = want.join(" or "),
                    state = now.map(|p| p.state).unwrap_or_else(|| "gone".into()),
                    "the RDF pair did not reach the state in time"
                );
                Err(op.timeout())
            }
        }
    }

    /// Makes the remote twin of `v` and pairs them, waiting until they are
    /// synchronized. On failure, what it made is removed (pair, then twin)
    /// and the error returned.
    async fn pair_with_twin(&self, op: &Op, v: &VolumeInfo, p: &Policy) -> Result<Pair> {
        let remote = self.remote().await?;
        let n = self.rdf_group_number().await?;
        let name = naming::name_from_identifier(v.identifier.as_deref().unwrap_or(""));
        let size = v.size_gb.round() as i64;
        let rp = self.remote_policy(p)?;
        let mut rsaga = Saga::new();
        let r = async {
            let twin = remote
                .create_volume_step(op, &mut rsaga, name, size, &rp)
                .await?;
            op.check()?;
            let made = self
                .api
                .create_rdf_pair(n, &v.device_id, &twin.device_id)
                .await;
            if let Err(e) = made {
                // a lost answer may hide a pair that was made
                if self.api.rdf_pair(n, &v.device_id).await?.is_none() {
                    return Err(e.into());
                }
            }
            match self.wait_pair(op, &v.device_id, &["Synchronized"]).await {
                Ok(pair) => Ok(pair),
                Err(e) => {
                    self.unpair_known(n, &v.device_id).await?;
                    Err(e)
                }
            }
        }
        .await;
        rsaga.finish(remote, r).await
    }

    /// Removes the pair this operation made in group `n`, without reading
    /// it first (the read may be what failed): split (refused when it is
    /// not copying, which is fine), then delete.
    async fn unpair_known(&self, n: u32, dev: &str) -> Result<()> {
        if let Err(e) = self.api.rdf_action(n, dev, "Split").await
            && e.status() != Some(400)
            && !e.is_not_found()
        {
            return Err(e.into());
        }
        super::saga::not_found_ok(self.api.delete_rdf_pair(n, dev).await)
    }

    /// Removes the pair of `dev` if there is one: split first when it is
    /// copying. Returns the pair it removed.
    async fn unpair(&self, dev: &str) -> Result<Option<Pair>> {
        let Some(p) = self.pair(dev).await? else {
            return Ok(None);
        };
        if p.copying() {
            self.api.rdf_action(p.group, dev, "Split").await?;
        }
        super::saga::not_found_ok(self.api.delete_rdf_pair(p.group, dev).await)?;
        Ok(Some(p))
    }

    /// create_volume for a replicated volume: the local volume in its
    /// `-RE` group, the twin on the remote array, the pair, synchronized.
    pub async fn create_replicated(
        &self,
        op: &Op,
        name: &str,
        size_gb: i64,
        p: &Policy,
    ) -> Result<(VolumeInfo, Pair)> {
        let p = p.clone().replicated(true);
        let mut saga = Saga::new();
        let r = async {
            let v = self
                .create_volume_step(op, &mut saga, name, size_gb, &p)
                .await?;
            let pair = self.pair_with_twin(op, &v, &p).await?;
            Ok((v, pair))
        }
        .await;
        saga.finish(self, r).await
    }

    /// Turns replication on for an existing volume: into its `-RE` group,
    /// then the twin and the pair (a full copy). Undone on failure.
    pub async fn enable_replication(&self, op: &Op, dev: &str, p: &Policy) -> Result<Pair> {
        if let Some(pair) = self.pair(dev).await? {
            return Ok(pair);
        }
        let from = self
            .volume_in_one_read(dev)
            .await?
            .ok_or_else(|| DriverError::NotFound(format!("volume {dev} does not exist")))?;
        let rp = p.clone().replicated(true);
        let v = self.retype(op, dev, &rp).await?;
        match self.pair_with_twin(op, &v, &rp).await {
            Ok(pair) => Ok(pair),
            Err(e) => {
                if let Some(old) = &from.policy
                    && let Err(ue) = self.retype(&Op::unbounded("undo"), dev, old).await
                {
                    tracing::error!(device = dev, error = %ue, "could not move the volume back to its group");
                }
                Err(e)
            }
        }
    }

    /// Turns replication off: split, delete the pair, delete the twin,
    /// and the volume leaves its `-RE` group for its policy's.
    pub async fn disable_replication(&self, op: &Op, dev: &str, p: &Policy) -> Result<()> {
        if let Some(pair) = self.unpair(dev).await? {
            op.check()?;
            let remote = self.remote().await?;
            remote.delete_volume(op, &pair.remote_device).await?;
        }
        self.retype(op, dev, &p.clone().replicated(false)).await?;
        Ok(())
    }

    /// Failover (`Side::Remote`) or failback (`Side::Local`) of the pair
    /// of `dev`, waiting for the state.
    pub async fn set_active_side(&self, op: &Op, dev: &str, side: Side) -> Result<Pair> {
        let pair = self.pair(dev).await?.ok_or_else(|| {
            DriverError::Conflict(format!("volume {dev} is not paired; nothing to fail over"))
        })?;
        if pair.active_side() == side {
            return Ok(pair);
        }
        let (action, want): (&str, &[&str]) = match side {
            Side::Remote => ("Failover", &["Failed Over"]),
            Side::Local => ("Failback", &["Synchronized"]),
        };
        self.api.rdf_action(pair.group, dev, action).await?;
        self.wait_pair(op, dev, want).await
    }

    /// extend_volume for a replicated volume (only with `allow_extend`):
    /// suspend, extend the twin then the volume, establish again.
    pub async fn extend_replicated(&self, op: &Op, dev: &str, new_gb: i64) -> Result<()> {
        let r = self.replication_or_err()?;
        if !r.allow_extend {
            return Err(DriverError::invalid(
                "size_gb",
                "a replicated volume can grow only with allow_extend = true in the provider's replication block",
            ));
        }
        let pair = self
            .pair(dev)
            .await?
            .ok_or_else(|| DriverError::Conflict(format!("volume {dev} is not paired")))?;
        if pair.active_side() == Side::Remote {
            return Err(DriverError::Conflict(format!(
                "volume {dev} is failed over to array {}; fail back (replication_active_side = \"local\") before growing it",
                pair.remote_array
            )));
        }
        if pair.copying() {
            self.api.rdf_action(pair.group, dev, "Suspend").await?;
        }
        let remote = self.remote().await?;
        let grown = async {
            remote
                .extend_volume(op, &pair.remote_device, new_gb)
                .await?;
            self.extend_volume(op, dev, new_gb).await
        }
        .await;
        // the pair is established again whatever happened: a failed
        // extend leaves both sides at sizes the array accepts
        let again = self.api.rdf_action(pair.group, dev, "Establish").await;
        grown?;
        again?;
        self.wait_pair(op, dev, &["Synchronized"]).await?;
        Ok(())
    }

    /// delete_volume for a replicated volume: split, delete the pair,
    /// delete the twin, delete the volume.
    pub async fn delete_replicated(&self, op: &Op, dev: &str) -> Result<()> {
        if let Some(pair) = self.unpair(dev).await? {
            op.check()?;
            self.remote()
                .await?
                .delete_volume(op, &pair.remote_device)
                .await?;
        }
        self.delete_volume(op, dev).await
    }
}
