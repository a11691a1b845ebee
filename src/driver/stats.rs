//! get_volume_stats: pool capacity by the seed's arithmetic.
//!
//! total = the SRP's usable capacity; allocated = its allocated capacity;
//! free = total − allocated, or, when the workload planner reports headroom
//! for the service level and workload, headroom − allocated (never below
//! 0); provisioned = subscribed capacity; reserved percentage = the larger
//! of the configured one and the array's.

use super::naming::Policy;
use super::{Driver, Result};

pub const DRIVER_VERSION: &str = "3.0.0";

#[derive(Debug, Clone, PartialEq)]
pub struct PoolStats {
    pub pool_name: String,
    pub location_info: String,
    pub service_level: Option<String>,
    pub workload: Option<String>,
    pub total_capacity_gb: f64,
    pub free_capacity_gb: f64,
    pub allocated_capacity_gb: f64,
    pub provisioned_capacity_gb: f64,
    pub reserved_percentage: f64,
    pub headroom_gb: Option<f64>,
}

/// The seed's formula, pure.
pub fn compute(
    usable: f64,
    allocated: f64,
    subscribed: f64,
    array_reserved: f64,
    configured_reserved: f64,
    headroom: Option<f64>,
) -> (f64, f64, f64, f64, f64) {
    let free = match headroom {
        Some(h) => (h - allocated).max(0.0),
        None => (usable - allocated).max(0.0),
    };
    (
        usable,
        free,
        allocated,
        subscribed,
        array_reserved.max(configured_reserved),
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Driver {
    /// Workload-planner headroom in GB for a policy, when the array reports one.
    pub async fn headroom(&self, p: &Policy) -> Result<Option<f64>> {
        let slo = p.slo.clone().unwrap_or_else(|| "None".into());
        let wl = p.workload.clone().unwrap_or_else(|| "None".into());
        Ok(self.api.headroom(&p.srp, &slo, &wl).await?)
    }

    /// Stats of one pool (SRP + service level + workload): one SRP read
    /// and, with a service level, one headroom read.
    pub async fn pool_stats(&self, p: &Policy, configured_reserved: f64) -> Result<PoolStats> {
        let srp = self.api.srp(&p.srp).await?;
        self.pool_stats_of(&srp, p, configured_reserved).await
    }

    /// Stats of several pools of one SRP: the SRP is read once and the
    /// headrooms concurrently (a few at a time).
    pub async fn pools_stats(
        &self,
        srp: &str,
        policies: &[Policy],
        configured_reserved: f64,
    ) -> Result<Vec<PoolStats>> {
        let s = self.api.srp(srp).await?;
        let mut out = Vec::with_capacity(policies.len());
        for chunk in policies.chunks(8) {
            let mut futs = Vec::with_capacity(chunk.len());
            for p in chunk {
                futs.push(self.pool_stats_of(&s, p, configured_reserved));
            }
            out.extend(futures_util::future::try_join_all(futs).await?);
        }
        Ok(out)
    }

    async fn pool_stats_of(
        &self,
        srp: &crate::unisphere::Srp,
        p: &Policy,
        configured_reserved: f64,
    ) -> Result<PoolStats> {
        let (usable, allocated, subscribed) = srp.capacity_gb();
        let headroom = if p.slo.is_some() {
            self.headroom(p).await?
        } else {
            None
        };
        let (total, free, alloc, prov, reserved) = compute(
            usable,
            allocated,
            subscribed,
            srp.reserved_cap_percent,
            configured_reserved,
            headroom,
        );
        Ok(PoolStats {
            pool_name: p.pool_name(&self.settings.array),
            location_info: p.location_info(&self.settings.array),
            service_level: p.slo.clone(),
            workload: p.workload.clone(),
            total_capacity_gb: round2(total),
            free_capacity_gb: round2(free),
            allocated_capacity_gb: round2(alloc),
            provisioned_capacity_gb: round2(prov),
            reserved_percentage: reserved,
            headroom_gb: headroom,
        })
    }

    /// Every valid pool of an SRP: no service level, and each service level
    /// alone and with each workload.
    pub async fn pools(&self, srp: &str) -> Result<Vec<Policy>> {
        let mut out = vec![Policy::new(srp, None, None)];
        let workloads = self.workloads().await?.clone();
        for slo in self.service_levels().await?.clone() {
            out.push(Policy::new(srp, Some(&slo), None));
            for w in &workloads {
                out.push(Policy::new(srp, Some(&slo), Some(w)));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_with_and_without_headroom() {
        // the spec's example SRP
        let (t, f, a, p, r) = compute(20514.4, 5244.7, 84970.1, 10.0, 5.0, None);
        assert_eq!((t, a, p, r), (20514.4, 5244.7, 84970.1, 10.0));
        assert!((f - (20514.4 - 5244.7)).abs() < 1e-9);
        let (_, f, _, _, r) = compute(20514.4, 5244.7, 84970.1, 10.0, 15.0, Some(20348.29));
        assert!((f - (20348.29 - 5244.7)).abs() < 1e-9);
        assert_eq!(r, 15.0);
        let (_, f, ..) = compute(100.0, 50.0, 0.0, 0.0, 0.0, Some(10.0));
        assert_eq!(f, 0.0, "never negative");
    }
}
