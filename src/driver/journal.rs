//! The create journal: proof, surviving a crash, that a volume or snapshot
//! on the array was made by this workspace.
//!
//! When Terraform or the provider dies between a create and Terraform
//! writing state, the next apply finds an object under its name that no
//! state records. A name is no proof (another workspace may have made
//! it), so without a journal the create refuses and names the import
//! command. With one, it can recover its own object:
//!
//! - Before a create is sent, an entry records the array, the identifier
//!   (or source device and snapshot name) and the time; as soon as the
//!   array accepts the change as a job, the job id is added.
//! - After a crash, a create that finds its name taken reads the journal:
//!   an entry with a job id whose job succeeded and names the device (or,
//!   for a snapshot, the one generation of that name) is this workspace's
//!   own, and is taken back. An entry without a job id (the process died
//!   before the array answered) proves nothing: the create refuses.
//! - Entries are forgotten once Terraform has recorded the object (its
//!   first refresh or read) or it is deleted.
//!
//! The journal lives in the workspace's data directory
//! (`$TF_DATA_DIR`, default `.terraform`), under `vmax-journal/<workspace>`,
//! so other directories and other `terraform workspace`s never share it.
//! Job ids are the proof: they come from this process's own requests, so
//! another workspace racing for the same name cannot forge one.
//!
//! Entries are written atomically (a rename) but not synced to disk: they
//! survive the death of Terraform or the provider, which is what they are
//! for, not the loss of the machine.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One create in flight (or interrupted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub array: String,
    /// `volume:<identifier>` or `snapshot:<device>:<name>`.
    pub key: String,
    pub job_id: Option<String>,
    pub device: Option<String>,
    pub at_ms: u64,
    /// The provider process that wrote (or last took back) the entry:
    /// only entries of earlier processes are recovered, and each once, so
    /// two resources of one apply never share an object.
    #[serde(default)]
    pub session: String,
}

/// The journal of one workspace; `None` directory = journaling off.
pub struct Journal {
    dir: Option<PathBuf>,
    lock: Mutex<()>,
    session: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Journal {
    /// The journal of the workspace Terraform runs in (the provider's
    /// working directory), from the environment it was started with.
    pub fn for_workspace() -> Journal {
        let data = std::env::var("TF_DATA_DIR").unwrap_or_else(|_| ".terraform".into());
        let data = PathBuf::from(data);
        let ws = std::env::var("TF_WORKSPACE")
            .ok()
            .or_else(|| std::fs::read_to_string(data.join("environment")).ok())
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "default".into());
        let safe: String = ws
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Journal::at(Some(data.join("vmax-journal").join(safe)))
    }

    pub fn at(dir: Option<PathBuf>) -> Journal {
        Journal {
            dir,
            lock: Mutex::new(()),
            session: new_session(),
        }
    }

    fn file(&self, array: &str, key: &str) -> Option<PathBuf> {
        let name: String = format!("{array}-{key}")
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.as_ref().map(|d| d.join(format!("{name}.json")))
    }

    /// Records a create about to be sent. Failure to write only turns the
    /// recovery off for this object (the create then refuses after a crash).
    pub fn begin(&self, array: &str, key: &str) {
        self.write(&Entry {
            array: array.into(),
            key: key.into(),
            job_id: None,
            device: None,
            at_ms: now_ms(),
            session: self.session.clone(),
        });
    }

    /// An entry an earlier process left (a crash), not yet taken back.
    pub fn interrupted(&self, array: &str, key: &str) -> Option<Entry> {
        self.get(array, key).filter(|e| e.session != self.session)
    }

    /// Marks an interrupted entry as taken back by this process.
    pub fn claim(&self, array: &str, key: &str) {
        if let Some(mut e) = self.get(array, key) {
            e.session = self.session.clone();
            self.write(&e);
        }
    }

    /// Adds the job the array accepted for the create.
    pub fn job(&self, array: &str, key: &str, job_id: &str) {
        if let Some(mut e) = self.get(array, key) {
            e.job_id = Some(job_id.into());
            self.write(&e);
        }
    }

    /// Adds the device the create made.
    pub fn device(&self, array: &str, key: &str, device: &str) {
        if let Some(mut e) = self.get(array, key) {
            e.device = Some(device.into());
            self.write(&e);
        }
    }

    pub fn get(&self, array: &str, key: &str) -> Option<Entry> {
        let path = self.file(array, key)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Forgets an entry (recorded in state, or deleted).
    pub fn forget(&self, array: &str, key: &str) {
        if let Some(path) = self.file(array, key) {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let _ = std::fs::remove_file(path);
        }
    }

    /// Forgets the volume entries that name this device.
    pub fn forget_device(&self, array: &str, device: &str) {
        let Some(dir) = &self.dir else { return };
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for f in rd.flatten() {
            let p = f.path();
            if let Ok(text) = std::fs::read_to_string(&p)
                && let Ok(e) = serde_json::from_str::<Entry>(&text)
                && e.array == array
                && e.device.as_deref() == Some(device)
            {
                let _ = std::fs::remove_file(&p);
            }
        }
    }

    fn write(&self, e: &Entry) {
        let Some(path) = self.file(&e.array, &e.key) else {
            return;
        };
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(err) = write_atomic(&path, e) {
            tracing::warn!(error = %err, "cannot write the create journal; an interrupted create will not be recovered");
        }
    }
}

/// A session id no other journal shares: process, time and a counter
/// (two journals of one process made in the same millisecond differ).
fn new_session() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{}-{n}", std::process::id(), now_ms())
}

fn write_atomic(path: &Path, e: &Entry) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("tmp");
    let data = serde_json::to_vec(e).map_err(std::io::Error::other)?;
    {
        use std::io::Write;
        // written and renamed, not synced: it must outlive the death of
        // Terraform or the provider (the page cache does), not a power
        // loss; an fsync per entry serialised every create behind the disk
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&data)?;
    }
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(Some(dir.path().join("j")));
        assert!(j.get("a", "volume:OS-x").is_none());
        j.begin("a", "volume:OS-x");
        j.job("a", "volume:OS-x", "1700000000001");
        j.device("a", "volume:OS-x", "00108");
        let e = j.get("a", "volume:OS-x").unwrap();
        assert_eq!(
            (e.job_id.as_deref(), e.device.as_deref()),
            (Some("1700000000001"), Some("00108"))
        );
        assert!(
            j.interrupted("a", "volume:OS-x").is_none(),
            "this process's own entry"
        );
        let later = Journal::at(Some(dir.path().join("j")));
        assert!(
            later.interrupted("a", "volume:OS-x").is_some(),
            "an earlier process's entry"
        );
        later.claim("a", "volume:OS-x");
        assert!(
            later.interrupted("a", "volume:OS-x").is_none(),
            "taken back once"
        );
        j.begin("a", "snapshot:00108:nightly");
        j.forget_device("a", "00108");
        assert!(j.get("a", "volume:OS-x").is_none());
        assert!(
            j.get("a", "snapshot:00108:nightly").is_some(),
            "a snapshot's entry is its own"
        );
        j.forget("a", "snapshot:00108:nightly");
        assert!(j.get("a", "snapshot:00108:nightly").is_none());
        // no directory: journaling off, silently
        let off = Journal::at(None);
        off.begin("a", "k");
        assert!(off.get("a", "k").is_none());
    }
}
