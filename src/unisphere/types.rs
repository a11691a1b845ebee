//! Wire types: the fields of Unisphere's answers that this project reads.
//! Unknown fields are ignored; absent lists default to empty; flags that
//! older releases sent as strings are accepted either way.

use serde::{Deserialize, Deserializer};

fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        B(bool),
        S(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::B(b)) => b,
        Some(B::S(s)) => s.eq_ignore_ascii_case("true"),
        None => false,
    })
}

fn flexible_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        N(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        Some(N::N(n)) => n,
        Some(N::S(s)) => s.parse().unwrap_or(0.0),
        None => 0.0,
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub api_version: Option<String>,
    #[serde(default)]
    pub supported_api_versions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SymmetrixInfo {
    #[serde(rename = "symmetrixId")]
    pub symmetrix_id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub ucode: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    #[serde(default)]
    pub execution_order: u32,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    #[serde(rename = "jobId")]
    pub job_id: String,
    pub status: String,
    pub result: Option<String>,
    #[serde(default)]
    pub task: Vec<Task>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResultList<T> {
    #[serde(default = "Vec::new")]
    pub result: Vec<T>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IteratorPage<T> {
    #[serde(rename = "resultList")]
    pub result_list: Option<ResultList<T>>,
    pub count: Option<usize>,
    pub id: Option<String>,
    #[serde(rename = "maxPageSize")]
    pub max_page_size: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PageResult<T> {
    #[serde(default = "Vec::new")]
    pub result: Vec<T>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VolumeId {
    #[serde(rename = "volumeId")]
    pub volume_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Volume {
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    #[serde(default, deserialize_with = "flexible_f64")]
    pub cap_gb: f64,
    #[serde(default, deserialize_with = "flexible_f64")]
    pub cap_mb: f64,
    #[serde(default)]
    pub wwn: String,
    pub volume_identifier: Option<String>,
    #[serde(rename = "storageGroupId", default)]
    pub storage_groups: Vec<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub snapvx_source: bool,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub snapvx_target: bool,
    #[serde(default)]
    pub num_of_front_end_paths: u32,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct StorageGroup {
    #[serde(rename = "storageGroupId")]
    pub id: String,
    pub slo: Option<String>,
    pub workload: Option<String>,
    pub srp: Option<String>,
    #[serde(default)]
    pub num_of_vols: u64,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub child_storage_group: Vec<String>,
    #[serde(default)]
    pub parent_storage_group: Vec<String>,
    #[serde(default)]
    pub maskingview: Vec<String>,
}

impl StorageGroup {
    /// The service level, with "NONE"/"None" read as none.
    pub fn service_level(&self) -> Option<&str> {
        self.slo
            .as_deref()
            .filter(|s| !s.eq_ignore_ascii_case("none"))
    }
    pub fn workload_type(&self) -> Option<&str> {
        self.workload
            .as_deref()
            .filter(|s| !s.eq_ignore_ascii_case("none"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SrpCapacity {
    #[serde(default)]
    pub usable_total_tb: f64,
    #[serde(default)]
    pub usable_used_tb: f64,
    #[serde(default)]
    pub subscribed_total_tb: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Srp {
    #[serde(rename = "srpId")]
    pub id: String,
    pub total_usable_cap_gb: Option<f64>,
    pub total_allocated_cap_gb: Option<f64>,
    pub total_subscribed_cap_gb: Option<f64>,
    #[serde(default)]
    pub reserved_cap_percent: f64,
    pub srp_capacity: Option<SrpCapacity>,
}

impl Srp {
    /// (usable, allocated, subscribed) in GB, from either version's shape.
    pub fn capacity_gb(&self) -> (f64, f64, f64) {
        match (&self.srp_capacity, self.total_usable_cap_gb) {
            (_, Some(u)) => (
                u,
                self.total_allocated_cap_gb.unwrap_or(0.0),
                self.total_subscribed_cap_gb.unwrap_or(0.0),
            ),
            (Some(c), None) => (
                c.usable_total_tb * 1024.0,
                c.usable_used_tb * 1024.0,
                c.subscribed_total_tb * 1024.0,
            ),
            (None, None) => (0.0, 0.0, 0.0),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SloList {
    #[serde(rename = "sloId", default)]
    pub slo_id: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkloadList {
    #[serde(rename = "workloadId", default)]
    pub workload_id: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SgList {
    #[serde(rename = "storageGroupId", default)]
    pub ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_parses_the_spec_example_and_string_flags() {
        // GET /100/sloprovisioning/symmetrix/{id}/volume/{id} example from the 10.0 spec
        let v: Volume = serde_json::from_str(r#"{"effective_wwn": "60000970000197900049533030334536", "pinned": false, "snapvx_target": false, "allocated_percent": 0, "emulation": "FBA", "num_of_front_end_paths": 0, "type": "TDEV", "cap_cyl": 3, "has_effective_wwn": false, "ssid": "FFFFFFFF", "wwn": "60000970000197900049533030334536", "cap_gb": 0.01, "reserved": false, "encapsulated": false, "num_of_storage_groups": 0, "volumeId": "003E6", "cap_mb": 6, "snapvx_source": false, "status": "Ready"}"#).unwrap();
        assert_eq!(v.volume_id, "003E6");
        assert!(v.storage_groups.is_empty());
        let v: Volume = serde_json::from_str(
            r#"{"volumeId":"0001A","cap_gb":10.0,"snapvx_source":"true","snapvx_target":"false"}"#,
        )
        .unwrap();
        assert!(v.snapvx_source && !v.snapvx_target);
    }

    #[test]
    fn srp_capacity_from_both_shapes() {
        let old: Srp = serde_json::from_str(r#"{"srpId":"SRP_1","total_usable_cap_gb":20514.4,"total_allocated_cap_gb":5244.7,"total_subscribed_cap_gb":84970.1,"reserved_cap_percent":10}"#).unwrap();
        assert_eq!(old.capacity_gb(), (20514.4, 5244.7, 84970.1));
        let new: Srp = serde_json::from_str(r#"{"srpId": "SRP_1", "reserved_cap_percent": 0, "srp_capacity": {"subscribed_allocated_tb": 35.66, "subscribed_total_tb": 347.88, "snapshot_modified_tb": 0, "snapshot_total_tb": 133.76, "usable_used_tb": 36.96, "usable_total_tb": 62.87, "effective_used_capacity_percent": 54}}"#).unwrap();
        let (u, a, _) = new.capacity_gb();
        assert!((u - 62.87 * 1024.0).abs() < 1e-6 && (a - 36.96 * 1024.0).abs() < 1e-6);
    }
}
