//! Group commit for volume creates.
//!
//! Creates into one storage group that arrive while a create into that
//! group is running wait, and then go to the array together as one job:
//! one ownership check for all their identifiers (one enhanced-API read on
//! Unisphere 10.x), one `addVolumeParam` whose `volumeAttributes` name each
//! volume with its own size and identifier (one volume a job before API
//! 90), one job wait, and the new volumes read back concurrently. Each
//! waiting operation gets its own device (matched by identifier, never by
//! position) or its own error naming its volume; a batch whose job fails
//! made nothing, so no operation is handed another's volume.
//!
//! A missing group is made by the create itself (a storage-group POST with
//! the volumes in it), so a create never reads its group first.
//!
//! Exports to one host that only need their volume put into an existing
//! child group of the host's view are coalesced the same way ([`Joins`]):
//! one move (or addition) for all of them, under the lock of the group
//! joined and of every volume in it; when the array refuses the batch, each
//! volume is sent alone so that each export gets its own answer.
//!
//! A waiting create holds only its identifier's lock. Whoever obtains a
//! group's sender slot sends everything queued at that moment, holding the
//! group's lock while that one job runs (so an operation that deletes the
//! group once empty cannot pass the additions); waiters whose result
//! arrives while they wait for the slot return at once.

use super::{Driver, DriverError, Policy, Result, naming};
use crate::unisphere::{self, NewVolume, Volume};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What a create in a batch got.
pub(crate) struct Made {
    pub dev: String,
    /// The volume as read back after the job (absent when it was found
    /// another way and must be read by the caller).
    pub volume: Option<Volume>,
    /// The batch made the group (its undo deletes it while empty).
    pub made_group: bool,
    /// The journal proved the volume this workspace's, made before a crash.
    pub recovered: bool,
}

/// One waiting change and, once its batch ran, its result.
pub(crate) struct Slot<I, T> {
    item: I,
    result: Mutex<Option<Result<T>>>,
    done: Notify,
}

impl Made {
    /// A volume of the batch found by its identifier, to be read by the caller.
    fn found(dev: String, made_group: bool) -> Made {
        Made {
            dev,
            volume: None,
            made_group,
            recovered: false,
        }
    }
}

impl<I, T> Slot<I, T> {
    fn set(&self, r: Result<T>) {
        if let Ok(mut g) = self.result.lock() {
            *g = Some(r);
        }
        self.done.notify_one();
    }
    fn take(&self) -> Option<Result<T>> {
        self.result.lock().ok().and_then(|mut g| g.take())
    }
    fn has_result(&self) -> bool {
        self.result.lock().map(|g| g.is_some()).unwrap_or(false)
    }
}

/// The changes waiting under one key, oldest first.
type Waiting<I, T> = Vec<Arc<Slot<I, T>>>;

/// Waiting changes by key, and each key's sender slot.
pub(crate) struct Queues<K, I, T> {
    queues: Mutex<HashMap<K, Waiting<I, T>>>,
    senders: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    /// The size of the last batch sent: waves are expected after a batch
    /// of several, not after a lone change.
    last: std::sync::atomic::AtomicUsize,
    /// Per key: changes submitted and not yet answered, and the most seen
    /// at once (how many Terraform runs in parallel into this key).
    flight: Mutex<HashMap<K, (usize, usize)>>,
}

/// Counts a change in flight under its key until dropped.
struct InFlight<'a, K: std::hash::Hash + Eq + Clone> {
    flight: &'a Mutex<HashMap<K, (usize, usize)>>,
    key: K,
}

impl<K: std::hash::Hash + Eq + Clone> Drop for InFlight<'_, K> {
    fn drop(&mut self) {
        if let Ok(mut f) = self.flight.lock()
            && let Some(e) = f.get_mut(&self.key)
        {
            e.0 = e.0.saturating_sub(1);
        }
    }
}

impl<K, I, T> Default for Queues<K, I, T> {
    fn default() -> Self {
        Queues {
            queues: Mutex::new(HashMap::new()),
            senders: Mutex::new(HashMap::new()),
            last: std::sync::atomic::AtomicUsize::new(0),
            flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone, I, T> Queues<K, I, T> {
    fn queued(&self, key: &K) -> usize {
        self.queues
            .lock()
            .map(|q| q.get(key).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    /// The most changes seen in flight at once under `key`.
    fn peak(&self, key: &K) -> usize {
        self.flight
            .lock()
            .map(|f| f.get(key).map_or(0, |e| e.1))
            .unwrap_or(0)
    }

    fn holds(&self, key: &K, me: &Arc<Slot<I, T>>) -> bool {
        self.queues
            .lock()
            .map(|q| {
                q.get(key)
                    .is_some_and(|v| v.iter().any(|e| Arc::ptr_eq(e, me)))
            })
            .unwrap_or(false)
    }

    /// Queues `item` under `key` and returns its result: whoever holds the
    /// key's sender slot runs `send` on what `take` picks from the queue,
    /// after waiting for the rest of a wave ([`linger`]).
    async fn submit<F, Fut>(
        &self,
        key: K,
        item: I,
        take: impl Fn(&mut Waiting<I, T>) -> Waiting<I, T>,
        send: F,
    ) -> Result<T>
    where
        F: Fn(Waiting<I, T>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let me = Arc::new(Slot {
            item,
            result: Mutex::new(None),
            done: Notify::new(),
        });
        let _counted = {
            if let Ok(mut f) = self.flight.lock() {
                let e = f.entry(key.clone()).or_default();
                e.0 += 1;
                e.1 = e.1.max(e.0);
            }
            InFlight {
                flight: &self.flight,
                key: key.clone(),
            }
        };
        if let Ok(mut q) = self.queues.lock() {
            q.entry(key.clone()).or_default().push(me.clone());
        }
        let sender = self
            .senders
            .lock()
            .map(|mut s| s.entry(key.clone()).or_default().clone())
            .map_err(|_| DriverError::Inconsistent("batch queue poisoned".into()))?;
        loop {
            if let Some(r) = me.take() {
                return r;
            }
            tokio::select! {
                _ = me.done.notified() => {}
                guard = sender.lock() => {
                    if !me.has_result() {
                        let wave = self.last.load(std::sync::atomic::Ordering::Relaxed) > 1;
                        linger(wave, self.peak(&key), || self.queued(&key)).await;
                        let batch = self
                            .queues
                            .lock()
                            .ok()
                            .and_then(|mut q| q.get_mut(&key).map(&take))
                            .unwrap_or_default();
                        let mine = batch.iter().any(|e| Arc::ptr_eq(e, &me));
                        if !mine && !self.holds(&key, &me) && !me.has_result() {
                            // taken by a batch whose sender went away
                            // (its request was cancelled): never wait forever
                            return Err(abandoned());
                        }
                        if !batch.is_empty() {
                            self.last.store(batch.len(), std::sync::atomic::Ordering::Relaxed);
                            send(batch).await;
                        }
                    }
                    drop(guard);
                }
            }
        }
    }
}

/// A create waiting in a batch: the volume and its journal key.
pub(crate) struct NewEntry {
    vol: NewVolume,
    key: String,
}

type Entry = Slot<NewEntry, Made>;

/// The queues of creates, by storage group.
pub(crate) type Batches = Queues<String, NewEntry, Made>;

/// Volumes waiting to join a group, by (group they leave, group they join).
type JoinKey = (Option<String>, String);

type Member = Slot<String, ()>;

/// The queues of volumes joining groups.
pub(crate) type Joins = Queues<JoinKey, String, ()>;

/// A sender waits a moment for the rest of its wave: when a batch of
/// several ends, Terraform starts the next operations one after another as
/// it records each result, and the first of them would otherwise go alone
/// (or, once waves split, two half waves would alternate, each paying a
/// whole job). It sends once as many are queued as were ever in flight at
/// once under the key (`peak`: Terraform's parallelism into it). After a
/// lone change (no wave seen) the wait is short; after a batch it lasts
/// until no newcomer arrived for a while.
async fn linger(wave: bool, peak: usize, queued: impl Fn() -> usize) {
    let full = peak.max(2);
    if queued() >= full {
        return;
    }
    let (most, quiet) = if wave {
        (LINGER, LINGER_QUIET)
    } else {
        (LINGER_STEP * 2, LINGER_STEP)
    };
    let start = tokio::time::Instant::now();
    let mut seen = queued();
    let mut last_arrival = start;
    while start.elapsed() < most {
        tokio::time::sleep(LINGER_STEP).await;
        let now = queued();
        if now >= full {
            break;
        }
        if now != seen {
            last_arrival = tokio::time::Instant::now();
            seen = now;
        } else if now > 1 && last_arrival.elapsed() >= quiet {
            break;
        }
    }
}

/// How long a lone sender waits for its wave at most, how often it looks
/// whether more arrived, and how long without a newcomer ends the wait.
const LINGER: std::time::Duration = std::time::Duration::from_millis(300);
const LINGER_STEP: std::time::Duration = std::time::Duration::from_millis(10);
const LINGER_QUIET: std::time::Duration = std::time::Duration::from_millis(60);

/// How often a batch whose outcome was unknown and that the array shows as
/// not made is sent again.
const RESENDS: u32 = 2;

impl Driver {
    /// Creates one volume in `sg` (the default group of `p`), together with
    /// whatever other creates into `sg` are waiting. `key` is its journal key.
    pub(crate) async fn create_batched(
        &self,
        sg: &str,
        p: &Policy,
        vol: NewVolume,
        key: String,
    ) -> Result<Made> {
        // one named volume a request before API 90
        let many = self.api.has_move();
        self.batches
            .submit(
                sg.to_string(),
                NewEntry { vol, key },
                |q| {
                    if many || q.is_empty() {
                        std::mem::take(q)
                    } else {
                        vec![q.remove(0)]
                    }
                },
                |batch| async move { self.run_batch(sg, p, &batch).await },
            )
            .await
    }

    /// Puts `dev` into `to` (moving it out of `from`, or adding it),
    /// together with the other volumes waiting for the same move. The
    /// caller holds no lock: the batch takes the joined group's and every
    /// volume's locks.
    pub(crate) async fn join_group(&self, dev: &str, from: Option<&str>, to: &str) -> Result<()> {
        self.joins
            .submit(
                (from.map(String::from), to.to_string()),
                dev.to_string(),
                std::mem::take,
                |batch| async move { self.run_join(from, to, &batch).await },
            )
            .await
    }

    async fn run_join(&self, from: Option<&str>, to: &str, batch: &[Arc<Member>]) {
        // the group joined (an export's cleanup deletes it only while
        // empty, under this lock) and the volumes; not the group left:
        // taking these volumes out of it cannot make it wrongly deleted
        // (leaving, `to` empty: the group left, which is deleted once empty
        // when it is a default group)
        let leave = to.is_empty();
        let mut names = vec![Self::sg_lock(if leave {
            from.unwrap_or_default()
        } else {
            to
        })];
        names.extend(batch.iter().map(|m| Self::vol_lock(&m.item)));
        let _g = self.locks.lock_many(&names).await;
        let send = |devs: Vec<String>| async move {
            let devs: Vec<&str> = devs.iter().map(String::as_str).collect();
            match from {
                Some(f) if leave => Ok(self.api.remove_volumes(f, &devs).await?),
                Some(f) => self.move_volumes(&devs, f, to).await,
                None => Ok(self.api.add_volumes(to, &devs).await?),
            }
        };
        let all: Vec<String> = batch.iter().map(|m| m.item.clone()).collect();
        match send(all).await {
            Ok(()) => {
                for m in batch {
                    m.set(Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => batch[0].set(Err(e)),
            // refused as a whole (one volume moved meanwhile?): each alone
            Err(e) => {
                tracing::debug!(error = %e, volumes = batch.len(), "batched move refused; sending each volume alone");
                for m in batch {
                    m.set(send(vec![m.item.clone()]).await);
                }
            }
        }
        if leave
            && let Some(f) = from
            && naming::is_default_group(f)
            && let Err(e) = self.delete_group_if_unused_again(f).await
        {
            tracing::warn!(storage_group = f, error = %e, "could not delete the emptied group; the next delete in it will");
        }
    }

    /// Takes `dev` out of `sg`, together with the other volumes leaving it
    /// (deletes in one pool); a default group left empty is deleted. The
    /// caller holds no lock.
    pub(crate) async fn leave_group(&self, dev: &str, sg: &str) -> Result<()> {
        self.join_group(dev, Some(sg), "").await
    }

    /// Device ids carrying each identifier: one enhanced-API read on
    /// Unisphere 10.x, one list query per identifier before.
    async fn identifiers_in_use(&self, idents: &[&str]) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        // this command's bulk read of the managed volumes, when it made
        // one and changed nothing since, holds every identifier of ours
        if idents.iter().all(|i| i.starts_with(naming::MANAGED_PREFIX))
            && let Some(bulk) = self.api.current_bulk().await
        {
            for v in bulk.values() {
                if let Some(i) = &v.identifier
                    && idents.contains(&i.as_str())
                {
                    out.entry(i.clone()).or_default().push(v.id.clone());
                }
            }
            return Ok(out);
        }
        // the read-back of the previous batch under the same prefix, when
        // this process changed nothing since (the next wave of creates)
        if let Some(found) = self.api.known_under(idents) {
            for v in found.iter() {
                if let Some(i) = &v.identifier
                    && idents.contains(&i.as_str())
                {
                    out.entry(i.clone()).or_default().push(v.id.clone());
                }
            }
            return Ok(out);
        }
        let enhanced = if self.api.has_enhanced() {
            let prefix = common_prefix(idents);
            match self
                .api
                .volume_details(Some(&format!("identifier like {prefix}")))
                .await
            {
                Ok(found) => Some(found),
                Err(e) => {
                    tracing::debug!(error = %e, "enhanced API unavailable; looking up each identifier");
                    None
                }
            }
        } else {
            None
        };
        if let Some(found) = enhanced {
            for v in found {
                if let Some(i) = v.identifier
                    && idents.contains(&i.as_str())
                {
                    out.entry(i).or_default().push(v.id);
                }
            }
        } else {
            let lists = join_all(idents.iter().map(|i| self.find_by_identifier(i))).await;
            for (i, l) in idents.iter().zip(lists) {
                let l = l?;
                if !l.is_empty() {
                    out.insert(i.to_string(), l);
                }
            }
        }
        Ok(out)
    }

    /// Checks ownership for a batch, makes its volumes in one job, and
    /// hands each entry its result.
    async fn run_batch(&self, sg: &str, p: &Policy, batch: &[Arc<Entry>]) {
        let array = self.settings.array.clone();
        // 1. ownership: identifiers must be free (or proven ours by the journal)
        let idents: Vec<&str> = batch
            .iter()
            .map(|e| e.item.vol.identifier.as_str())
            .collect();
        let taken = match self.identifiers_in_use(&idents).await {
            Ok(t) => t,
            Err(e) => {
                for entry in batch {
                    entry.set(Err(clone_err(&e)));
                }
                return;
            }
        };
        let mut make: Vec<Arc<Entry>> = Vec::new();
        for e in batch {
            let ident = &e.item.vol.identifier;
            let existing = taken.get(ident).cloned().unwrap_or_default();
            match self.recover_volume(ident, &e.item.key, &existing).await {
                Ok(Some(dev)) => e.set(Ok(Made {
                    dev,
                    volume: None,
                    made_group: false,
                    recovered: true,
                })),
                Ok(None) if !existing.is_empty() => {
                    e.set(Err(Self::taken(ident, &existing, &array)))
                }
                Ok(None) => make.push(e.clone()),
                Err(err) => e.set(Err(err)),
            }
        }
        // 2. one job for the rest; sent again (bounded) when its answer was
        // lost and the array shows nothing made
        let mut made_group = false;
        let mut resent = 0;
        while !make.is_empty() {
            for e in &make {
                self.journal.begin(&array, &e.item.key);
            }
            let vols: Vec<NewVolume> = make.iter().map(|e| e.item.vol.clone()).collect();
            let keys: Vec<String> = make.iter().map(|e| e.item.key.clone()).collect();
            let note = |job: &str| {
                for k in &keys {
                    self.journal.job(&array, k, job);
                }
            };
            // the group's lock while the job runs: a delete of the group
            // (emptied by another operation) must not pass these additions
            let r = {
                let _g = self.locks.lock_many(&[Self::sg_lock(sg)]).await;
                self.send_create(sg, p, &vols, &note, &mut made_group).await
            };
            let done = match r {
                Ok(done) => done,
                Err(e) if !e.is_ambiguous() => {
                    // refused or failed: nothing was made
                    for entry in &make {
                        self.journal.forget(&array, &entry.item.key);
                        entry.set(Err(self.own_error(&e, entry, make.len(), sg)));
                    }
                    return;
                }
                Err(e) => {
                    // a lost answer: the volumes may exist; look for each
                    let found = join_all(
                        make.iter()
                            .map(|x| self.find_own_volume(&x.item.vol.identifier)),
                    )
                    .await;
                    let mut missing = Vec::new();
                    for (entry, f) in make.iter().zip(found) {
                        match f {
                            Ok(Some(dev)) => {
                                tracing::warn!(device = %dev, error = %e, "create reported an error but made the volume; keeping it");
                                entry.set(Ok(Made::found(dev, made_group)))
                            }
                            Ok(None) => missing.push(entry.clone()),
                            Err(err) => entry.set(Err(err)),
                        }
                    }
                    if resent >= RESENDS || matches!(e, unisphere::Error::JobTimeout { .. }) {
                        for entry in &missing {
                            entry.set(Err(self.own_error(&e, entry, make.len(), sg)));
                        }
                        return;
                    }
                    resent += 1;
                    tracing::warn!(error = %e, volumes = missing.len(), "the create was not made; sending it again");
                    make = missing;
                    continue;
                }
            };
            // 3. read the new volumes back (one enhanced-API read on 10.x,
            // else one read each), and match them by identifier
            let devs = done.new_device_ids();
            let mut by_ident: HashMap<String, Volume> = HashMap::new();
            if self.api.has_enhanced() && !devs.is_empty() {
                let idents: Vec<&str> = make
                    .iter()
                    .map(|e| e.item.vol.identifier.as_str())
                    .collect();
                let filter = format!("identifier like {}", common_prefix(&idents));
                if let Ok(found) = self.api.volume_details(Some(&filter)).await {
                    for d in found {
                        if devs.contains(&d.id) {
                            let v: Volume = d.into();
                            if let Some(i) = v.volume_identifier.clone() {
                                by_ident.insert(i, v);
                            }
                        }
                    }
                }
            }
            let missing: Vec<&String> = devs
                .iter()
                .filter(|d| !by_ident.values().any(|v| &v.volume_id == *d))
                .collect();
            let read = join_all(missing.iter().map(|d| self.api.volume(d))).await;
            for v in read.into_iter().flatten().flatten() {
                if let Some(i) = v.volume_identifier.clone() {
                    by_ident.insert(i, v);
                }
            }
            for entry in &make {
                let r = match by_ident.remove(&entry.item.vol.identifier) {
                    Some(v) => Ok(Made {
                        dev: v.volume_id.clone(),
                        volume: Some(v),
                        made_group,
                        recovered: false,
                    }),
                    None => match self.find_own_volume(&entry.item.vol.identifier).await {
                        Ok(Some(dev)) => Ok(Made::found(dev, made_group)),
                        Ok(None) => Err(DriverError::Inconsistent(format!(
                            "the array reported success creating {} but no volume carries that identifier; check the array",
                            entry.item.vol.identifier
                        ))),
                        Err(e) => Err(e),
                    },
                };
                entry.set(r);
            }
            return;
        }
    }

    /// Sends one create: into the group, or, when the group is missing,
    /// as a new group holding the volumes (an empty group first where the
    /// API cannot do both at once, or for volumes without a service level).
    async fn send_create(
        &self,
        sg: &str,
        p: &Policy,
        vols: &[NewVolume],
        note: &(dyn Fn(&str) + Sync),
        made_group: &mut bool,
    ) -> std::result::Result<unisphere::Done, unisphere::Error> {
        let mut group_missing = false;
        loop {
            let r = match (&p.slo, group_missing) {
                (Some(_), true) => {
                    let slo = super::slo_param(p).expect("a policy with a service level");
                    self.api
                        .create_group_with_volumes(sg, &p.srp, &slo, vols, note)
                        .await
                }
                _ => self.api.create_volumes(sg, vols, note).await,
            };
            match r {
                Ok(done) => {
                    *made_group |= group_missing;
                    return Ok(done);
                }
                Err(e) if e.is_not_found() && !group_missing => {
                    if p.slo.is_some() && self.api.has_move() {
                        group_missing = true;
                    } else {
                        match self.ensure_group(sg, Some(p)).await {
                            Ok(made) => *made_group |= made,
                            Err(DriverError::Array(e)) => return Err(e),
                            Err(other) => {
                                return Err(unisphere::Error::Other {
                                    op: format!("create storage group {sg}"),
                                    detail: other.to_string(),
                                });
                            }
                        }
                    }
                }
                // made meanwhile by someone else: add to it
                Err(e) if e.status() == Some(409) && group_missing => group_missing = false,
                Err(e) => return Err(e),
            }
        }
    }

    /// A batch's failure, told to one of its members.
    fn own_error(
        &self,
        e: &unisphere::Error,
        entry: &Entry,
        members: usize,
        sg: &str,
    ) -> DriverError {
        if members < 2 {
            return DriverError::Array(e.clone());
        }
        let op = format!(
            "create volume {} (sent to {sg} in one job with {} other new volume{})",
            entry.item.vol.identifier,
            members - 1,
            if members == 2 { "" } else { "s" }
        );
        DriverError::Array(e.clone().for_op(op))
    }
}

/// A waiter whose entry a vanished sender took.
fn abandoned() -> DriverError {
    DriverError::Inconsistent(
        "the batch this change was sent with was abandoned (its request was cancelled); run the apply again".into(),
    )
}

/// The same failure for another member of the batch.
fn clone_err(e: &DriverError) -> DriverError {
    match e {
        DriverError::Array(a) => DriverError::Array(a.clone()),
        other => DriverError::Inconsistent(other.to_string()),
    }
}

/// The longest common prefix of the identifiers, cut before any character
/// the enhanced API's filter syntax uses (space, comma); at least the
/// managed prefix.
fn common_prefix(idents: &[&str]) -> String {
    let first = idents.first().copied().unwrap_or(naming::MANAGED_PREFIX);
    let mut n = first.len();
    for i in idents {
        n = n.min(
            first
                .chars()
                .zip(i.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum(),
        );
    }
    let p: String = first[..n]
        .chars()
        .take_while(|c| *c != ' ' && *c != ',')
        .collect();
    // cut back to a word boundary (`OS-bench-1` -> `OS-bench-`), so that
    // the next batch of the same family falls under the same read; never
    // back to the bare managed prefix (every managed volume)
    let stem = match p.rfind(['-', '_', '.']) {
        Some(i) if i + 1 > naming::MANAGED_PREFIX.len() => p[..=i].to_string(),
        _ => p,
    };
    if stem.is_empty() {
        naming::MANAGED_PREFIX.to_string()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_prefix_is_shared_and_safe_for_the_filter() {
        assert_eq!(common_prefix(&["OS-db1", "OS-db2"]), "OS-db");
        assert_eq!(common_prefix(&["OS-a"]), "OS-a");
        assert_eq!(common_prefix(&["OS-a b", "OS-a c"]), "OS-a");
        assert_eq!(common_prefix(&["OS-x", "OS-y"]), "OS-");
        assert_eq!(
            common_prefix(&["OS-bench-10", "OS-bench-11"]),
            "OS-bench-",
            "a family's stem"
        );
    }
}
