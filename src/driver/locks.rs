//! Per-name async locks (storage groups, hosts), so that Terraform's
//! parallel operations never race on one array object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// The guards of one lock set; dropping them releases the set.
pub type Guards = Vec<OwnedMutexGuard<()>>;

#[derive(Default)]
pub struct Locks {
    table: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Locks {
    fn entry(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.entry(name.to_string()).or_default().clone()
    }

    async fn lock(&self, name: &str) -> OwnedMutexGuard<()> {
        self.entry(name).lock_owned().await
    }

    /// Locks a set of names in the one global order (sorted), so two
    /// operations never wait on each other in a cycle. The only way to
    /// lock: an operation takes one set and never a second while holding it.
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
}
