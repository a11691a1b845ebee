//! SnapVX: create_snapshot, delete_snapshot, create_volume_from_snapshot,
//! create_cloned_volume, and the link clean-up before delete.
//!
//! Invariant: a failed clone or volume-from-snapshot leaves nothing behind:
//! links are undone, the target deleted, the temporary snapshot terminated.

use super::naming::{Policy, truncate_middle};
use super::{Driver, DriverError, Result, VolumeInfo};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// One linked target of a snapshot generation.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkInfo {
    pub target: String,
    pub state: String,
    pub defined: bool,
    pub percent_copied: u32,
}

/// The newest generation of a named snapshot of one source volume.
#[derive(Debug, Clone)]
pub struct SnapInfo {
    pub source: String,
    pub name: String,
    pub generation: u32,
    pub generations: u32,
    pub timestamp: String,
    pub state: String,
    pub links: Vec<LinkInfo>,
}

/// Where a new volume's data comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Snapshot { device: String, name: String },
    Volume { device: String },
}

pub fn check_snapshot_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.len() > 32
        || name
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        Err(format!(
            "snapshot name {name:?} must be 1 to 32 characters of letters, digits, '_' and '-'"
        ))
    } else {
        Ok(())
    }
}

/// `temp-<source device>-<clone name cut to 10>`, the seed's clone snapshot.
pub fn temp_snapshot_name(source: &str, clone_name: &str) -> String {
    let safe: String = clone_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("temp-{source}-{}", truncate_middle(&safe, 10))
}

/// Parses a snapshot id `<device>:<name>`.
pub fn parse_snapshot_id(id: &str) -> Option<(String, String)> {
    let (d, n) = id.split_once(':')?;
    (d.len() == 5 && d.chars().all(|c| c.is_ascii_hexdigit()) && check_snapshot_name(n).is_ok())
        .then(|| (d.to_ascii_uppercase(), n.to_string()))
}

impl Driver {
    fn rp(&self, rest: &str) -> String {
        self.client.private_path(&format!(
            "replication/symmetrix/{}/{rest}",
            self.settings.array
        ))
    }

    async fn snapshots_of(&self, dev: &str) -> Result<Option<Value>> {
        Ok(self
            .client
            .get_opt(
                "read volume snapshots",
                &self.rp(&format!("volume/{dev}/snapshot")),
            )
            .await?)
    }

    pub async fn get_snapshot(&self, dev: &str, name: &str) -> Result<Option<SnapInfo>> {
        let Some(v) = self.snapshots_of(dev).await? else {
            return Ok(None);
        };
        let gens: Vec<&Value> = v["snapshotSrcs"]
            .as_array()
            .map(|a| a.iter().filter(|s| s["snapshotName"] == name).collect())
            .unwrap_or_default();
        let Some(newest) = gens
            .iter()
            .min_by_key(|s| s["generation"].as_u64().unwrap_or(u64::MAX))
        else {
            return Ok(None);
        };
        let links = newest["linkedDevices"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|l| LinkInfo {
                        target: l["targetDevice"].as_str().unwrap_or_default().to_string(),
                        state: l["state"].as_str().unwrap_or_default().to_string(),
                        defined: l["defined"].as_bool().unwrap_or(false),
                        percent_copied: l["percentageCopied"].as_u64().unwrap_or(0) as u32,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(SnapInfo {
            source: dev.to_string(),
            name: name.to_string(),
            generation: newest["generation"].as_u64().unwrap_or(0) as u32,
            generations: gens.len() as u32,
            timestamp: newest["timestamp"].as_str().unwrap_or_default().to_string(),
            state: newest["state"].as_str().unwrap_or_default().to_string(),
            links,
        }))
    }

    /// create_snapshot: a new SnapVX generation of `name` on `dev`.
    pub async fn create_snapshot(&self, dev: &str, name: &str) -> Result<SnapInfo> {
        check_snapshot_name(name).map_err(DriverError::Invalid)?;
        if self.get_volume(dev).await?.is_none() {
            return Err(DriverError::Invalid(format!(
                "source volume {dev} does not exist on array {}",
                self.settings.array
            )));
        }
        self.client
            .change(&format!("create snapshot {name} of {dev}"), Method::POST, &self.rp(&format!("snapshot/{name}")),
                json!({"deviceNameListSource": [{"name": dev}], "bothSides": "false", "star": "false", "force": "false"}))
            .await?;
        self.get_snapshot(dev, name).await?.ok_or_else(|| {
            DriverError::Invalid(format!(
                "snapshot {name} of {dev} was created but cannot be read back"
            ))
        })
    }

    async fn link_action(
        &self,
        action: &str,
        src: &str,
        name: &str,
        generation: u32,
        target: &str,
    ) -> Result<()> {
        self.client
            .change(&format!("{action} {target} to snapshot {name} of {src}"), Method::PUT, &self.rp(&format!("snapshot/{name}")), json!({
                "deviceNameListSource": [{"name": src}], "deviceNameListTarget": [{"name": target}],
                "action": action, "generation": generation, "copy": "true", "star": "false", "force": "false",
                "exact": "false", "remote": "false", "symforce": "false", "nocopy": "false",
            }))
            .await?;
        Ok(())
    }

    /// Waits until a link's copy is defined (or the job timeout passes).
    pub async fn wait_for_copy(
        &self,
        src: &str,
        name: &str,
        target: &str,
        limit: Duration,
    ) -> Result<()> {
        let start = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let s = self.get_snapshot(src, name).await?;
            let link = s
                .as_ref()
                .and_then(|s| s.links.iter().find(|l| l.target == target));
            match link {
                None => return Ok(()),
                Some(l) if l.defined => return Ok(()),
                Some(l) if start.elapsed() >= limit => {
                    return Err(DriverError::Invalid(format!(
                        "the copy from snapshot {name} of {src} to {target} is still {}% done after {} s; try again later",
                        l.percent_copied,
                        limit.as_secs()
                    )));
                }
                _ => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(3));
        }
    }

    /// Terminates every generation of `name` on `dev`, unlinking targets
    /// once their copy is defined. Gone already = success.
    pub async fn delete_snapshot(&self, dev: &str, name: &str, limit: Duration) -> Result<()> {
        let _g = self.locks.lock(&format!("snap:{dev}")).await;
        while let Some(s) = self.get_snapshot(dev, name).await? {
            for l in &s.links {
                self.wait_for_copy(dev, name, &l.target, limit).await?;
                self.link_action("Unlink", dev, name, s.generation, &l.target)
                    .await?;
            }
            match self
                .client
                .request(&format!("terminate snapshot {name} of {dev}"), Method::DELETE, &self.rp(&format!("snapshot/{name}")), &[],
                    Some(&json!({"deviceNameListSource": [{"name": dev}], "generation": s.generation})))
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Breaks the SnapVX relations that would block deleting or changing
    /// `dev`: links to it (waiting for their copy), and temporary clone
    /// snapshots of it. User snapshots of it are refused with a message.
    pub async fn break_links(
        &self,
        dev: &str,
        limit: Duration,
        refuse_user_snapshots: bool,
    ) -> Result<()> {
        let Some(v) = self.snapshots_of(dev).await? else {
            return Ok(());
        };
        for l in v["snapshotLnks"].as_array().cloned().unwrap_or_default() {
            let (src, name) = (
                l["linkSourceName"].as_str().unwrap_or_default().to_string(),
                l["snapshotName"].as_str().unwrap_or_default().to_string(),
            );
            let generation = l["generation"].as_u64().unwrap_or(0) as u32;
            self.wait_for_copy(&src, &name, dev, limit).await?;
            self.link_action("Unlink", &src, &name, generation, dev)
                .await?;
            if name.starts_with("temp-")
                && let Some(s) = self.get_snapshot(&src, &name).await?
                && s.links.is_empty()
            {
                self.delete_snapshot(&src, &name, limit).await?;
            }
        }
        let mut user = Vec::new();
        for s in v["snapshotSrcs"].as_array().cloned().unwrap_or_default() {
            let name = s["snapshotName"].as_str().unwrap_or_default().to_string();
            if name.starts_with("temp-") {
                self.delete_snapshot(dev, &name, limit).await?;
            } else if !user.contains(&name) {
                user.push(name);
            }
        }
        if refuse_user_snapshots && !user.is_empty() {
            return Err(DriverError::Invalid(format!(
                "volume {dev} still has SnapVX snapshots ({}); delete those vmax_snapshot resources first",
                user.join(", ")
            )));
        }
        Ok(())
    }

    /// create_volume_from_snapshot / create_cloned_volume: a new volume of
    /// `size_gb` (at least the source's) linked in copy mode.
    pub async fn create_volume_from_source(
        &self,
        name: &str,
        size_gb: i64,
        p: &Policy,
        source: &Source,
        wait: bool,
        limit: Duration,
    ) -> Result<VolumeInfo> {
        let (src_dev, snap, temp) = match source {
            Source::Snapshot { device, name: s } => {
                if self.get_snapshot(device, s).await?.is_none() {
                    return Err(DriverError::Invalid(format!(
                        "snapshot {s} of volume {device} does not exist; it cannot be the source of a new volume"
                    )));
                }
                (device.clone(), s.clone(), false)
            }
            Source::Volume { device } => (device.clone(), temp_snapshot_name(device, name), true),
        };
        let src = self.get_volume(&src_dev).await?.ok_or_else(|| {
            DriverError::Invalid(format!(
                "source volume {src_dev} does not exist on array {}",
                self.settings.array
            ))
        })?;
        if (size_gb as f64) < src.size_gb {
            return Err(DriverError::Invalid(format!(
                "size_gb {size_gb} is smaller than the source's {} GB; a copy must be at least as large as its source",
                src.size_gb
            )));
        }
        let target = self.create_volume(name, size_gb, p).await?;
        let result = async {
            if temp {
                self.create_snapshot(&src_dev, &snap).await?;
            }
            let generation = self
                .get_snapshot(&src_dev, &snap)
                .await?
                .map(|s| s.generation)
                .unwrap_or(0);
            self.link_action("Link", &src_dev, &snap, generation, &target.device_id)
                .await?;
            if wait || temp {
                // a clone's temporary snapshot goes away once the copy is done
                if wait {
                    self.wait_for_copy(&src_dev, &snap, &target.device_id, limit)
                        .await?;
                    self.link_action("Unlink", &src_dev, &snap, generation, &target.device_id)
                        .await?;
                    if temp {
                        self.delete_snapshot(&src_dev, &snap, limit).await?;
                    }
                }
            }
            Ok::<_, DriverError>(())
        }
        .await;
        match result {
            Ok(()) => Ok(self.get_volume(&target.device_id).await?.unwrap_or(target)),
            Err(e) => {
                tracing::warn!(target = %target.device_id, error = %e, "copy failed; removing what it made");
                if let Ok(Some(s)) = self.get_snapshot(&src_dev, &snap).await
                    && s.links.iter().any(|l| l.target == target.device_id)
                {
                    let _ = self
                        .link_action("Unlink", &src_dev, &snap, s.generation, &target.device_id)
                        .await;
                }
                if temp {
                    let _ = self.delete_snapshot(&src_dev, &snap, limit).await;
                }
                let _ = self.delete_volume(&target.device_id).await;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(
            temp_snapshot_name("0001A", "clone-of-db"),
            "temp-0001A-cloneof-db"
        );
        assert!(temp_snapshot_name("0001A", "a very long clone name").len() <= 32);
        assert_eq!(
            parse_snapshot_id("0001a:nightly"),
            Some(("0001A".into(), "nightly".into()))
        );
        assert_eq!(parse_snapshot_id("0001A"), None);
        assert!(check_snapshot_name(&"x".repeat(33)).is_err());
        assert!(check_snapshot_name("bad name").is_err());
    }
}
