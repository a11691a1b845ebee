//! Per-name async locks (storage groups, hosts), so that Terraform's
//! parallel operations never race on one array object.
//!
//! Each release is stamped with a sequence number, so an operation that
//! read the array under part of its lock set can tell whether anyone held
//! the rest meanwhile ([`Locks::try_extend`]): when nobody did, what it
//! read is as good as if it had held them all, and it needs no second read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// One held lock; dropping it releases the lock and stamps the release.
pub struct Guard {
    name: String,
    guard: OwnedMutexGuard<u64>,
    releases: Arc<AtomicU64>,
}

impl Guard {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        *self.guard = self.releases.fetch_add(1, Ordering::SeqCst) + 1;
    }
}

/// The guards of one lock set; dropping them releases the set.
pub type Guards = Vec<Guard>;

#[derive(Default)]
pub struct Locks {
    /// per name: the stamp of its last release
    table: Mutex<HashMap<String, Arc<tokio::sync::Mutex<u64>>>>,
    releases: Arc<AtomicU64>,
}

impl Locks {
    fn entry(&self, name: &str) -> Arc<tokio::sync::Mutex<u64>> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.entry(name.to_string()).or_default().clone()
    }

    fn guard(&self, name: &str, guard: OwnedMutexGuard<u64>) -> Guard {
        Guard {
            name: name.to_string(),
            guard,
            releases: self.releases.clone(),
        }
    }

    async fn lock(&self, name: &str) -> Guard {
        let g = self.entry(name).lock_owned().await;
        self.guard(name, g)
    }

    /// The release count so far: taken before a read, it lets
    /// [`Locks::try_extend`] tell whether a lock was held since.
    pub fn releases(&self) -> u64 {
        self.releases.load(Ordering::SeqCst)
    }

    /// Locks a set of names in the one global order (sorted), so two
    /// operations never wait on each other in a cycle. The only way to
    /// wait for locks: an operation takes one set and never waits for a
    /// second while holding it ([`Locks::try_extend`] does not wait).
    pub async fn lock_many(&self, names: &[String]) -> Guards {
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort();
        sorted.dedup();
        let mut out = Vec::with_capacity(sorted.len());
        for n in sorted {
            out.push(self.lock(n).await);
        }
        out
    }

    /// Adds `names` to a held set without waiting, when each is free now
    /// and was not released after `since` (so nobody held it since then).
    /// On `false` nothing is added.
    pub fn try_extend(&self, held: &mut Guards, names: &[String], since: u64) -> bool {
        let mut got = Vec::new();
        for n in names {
            if held.iter().chain(&got).any(|g: &Guard| g.name == *n) {
                continue;
            }
            match self.entry(n).try_lock_owned() {
                Ok(g) if *g <= since => got.push(self.guard(n, g)),
                // held now, or released after the read began (what was
                // taken is released again: at worst a parallel extension
                // then takes the slow way too)
                _ => return false,
            }
        }
        held.extend(got);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_name_serializes_and_many_is_deadlock_free() {
        let l = Arc::new(Locks::default());
        let g = l.lock("sg").await;
        let l2 = l.clone();
        let t = tokio::spawn(async move {
            l2.lock("sg").await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!t.is_finished());
        drop(g);
        t.await.unwrap();
        let a = l.lock_many(&["b".into(), "a".into(), "a".into()]).await;
        assert_eq!(a.len(), 2);
    }

    #[tokio::test]
    async fn extends_only_over_locks_nobody_held_since() {
        let l = Locks::default();
        let mut mine = l.lock_many(&["vol".into()]).await;
        let since = l.releases();
        // free and untouched since: taken
        assert!(l.try_extend(&mut mine, &["a".into()], since));
        assert_eq!(mine.len(), 2);
        // held by someone now: refused, nothing added
        let other = l.lock_many(&["b".into()]).await;
        assert!(!l.try_extend(&mut mine, &["c".into(), "b".into()], since));
        assert_eq!(mine.len(), 2);
        // released after the read began: refused
        drop(other);
        assert!(!l.try_extend(&mut mine, &["b".into()], since));
        // a later read sees it as settled
        let since = l.releases();
        assert!(l.try_extend(&mut mine, &["b".into()], since));
        let names: Vec<&str> = mine.iter().map(Guard::name).collect();
        assert_eq!(names, ["vol", "a", "b"]);
    }
}
