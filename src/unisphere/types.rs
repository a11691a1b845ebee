//! Wire types: the fields of Unisphere's answers that this project reads.
//! Unknown fields are ignored; absent lists default to empty; flags that
//! older releases sent as strings are accepted either way.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

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

/// A generation number sent as a number or a string ("0" in some releases).
fn flexible_u32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        N(u32),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        Some(N::N(n)) => Some(n),
        Some(N::S(s)) => s.parse().ok(),
        None => None,
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
    #[serde(default, alias = "microcode")]
    pub ucode: String,
    /// The SRP new volumes go to by default (`{sp}` answers only).
    #[serde(default)]
    pub default_fba_srp: Option<String>,
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
    #[serde(default)]
    pub scheduled_date_milliseconds: Option<u64>,
    #[serde(default)]
    pub completed_date_milliseconds: Option<u64>,
}

impl Job {
    /// How long the array took, from its own clock.
    pub fn duration_ms(&self) -> Option<u64> {
        let (s, c) = (
            self.scheduled_date_milliseconds?,
            self.completed_date_milliseconds?,
        );
        c.checked_sub(s)
    }
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
    /// The RDF groups the volume is paired in (absent when it is not).
    #[serde(rename = "rdfGroupId", default)]
    pub rdf_groups: Vec<RdfGroupRef>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct RdfGroupRef {
    #[serde(default)]
    pub rdf_group_number: u32,
    #[serde(default)]
    pub label: String,
}

/// `GET /{ver}/replication/symmetrix/{array}/rdf_group`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RdfGroupList {
    #[serde(rename = "rdfGroupID", default)]
    pub groups: Vec<RdfGroupEntry>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct RdfGroupEntry {
    #[serde(rename = "rdfgNumber")]
    pub number: u32,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub remote_symmetrix_id: Option<String>,
}

/// `GET /{ver}/replication/symmetrix/{array}/rdf_group/{n}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RdfGroupDetail {
    #[serde(rename = "rdfgNumber")]
    pub number: u32,
    #[serde(default)]
    pub label: String,
    #[serde(rename = "remoteSymmetrix", default)]
    pub remote_array: String,
    #[serde(default)]
    pub offline: bool,
}

/// `GET /{ver}/replication/symmetrix/{array}/rdf_group/{n}/volume/{dev}`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct RdfPair {
    #[serde(rename = "localRdfGroupNumber", default)]
    pub group: u32,
    #[serde(rename = "remoteSymmetrixId", default)]
    pub remote_array: String,
    #[serde(rename = "remoteVolumeName", default)]
    pub remote_device: String,
    #[serde(rename = "localVolumeState", default)]
    pub local_state: String,
    #[serde(rename = "rdfpairState", default)]
    pub state: String,
    /// `RDF1+TDEV` on the source side, `RDF2+TDEV` on the target's.
    #[serde(rename = "volumeConfig", default)]
    pub config: String,
}

/// `GET /private/{ver}/sloprovisioning/symmetrix/{array}/volume?volumeId=`:
/// one volume with its groups, views and SnapVX sessions (9.0 and later).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PrivateVolume {
    #[serde(rename = "volumeHeader", default)]
    pub header: PrivateHeader,
    #[serde(rename = "timeFinderInfo", default)]
    pub time_finder: TimeFinderInfo,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PrivateHeader {
    #[serde(rename = "volumeId", default)]
    pub volume_id: String,
    #[serde(rename = "userDefinedIdentifier", default)]
    pub identifier: String,
    #[serde(default)]
    pub wwn: String,
    #[serde(rename = "capGB", default, deserialize_with = "flexible_f64")]
    pub cap_gb: f64,
    #[serde(rename = "storageGroup", default)]
    pub storage_groups: Vec<String>,
    #[serde(rename = "numSymDevMaskingViews", default)]
    pub masking_views: u32,
    #[serde(rename = "serviceLevel", default)]
    pub service_level: Option<String>,
    #[serde(default)]
    pub workload: Option<String>,
    #[serde(rename = "compressionEnabled", default)]
    pub compression_enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct TimeFinderInfo {
    #[serde(rename = "snapVXSrc", default, deserialize_with = "flexible_bool")]
    pub source: bool,
    #[serde(rename = "snapVXTgt", default, deserialize_with = "flexible_bool")]
    pub target: bool,
    #[serde(rename = "snapVXSession", default)]
    pub sessions: Vec<SnapVxSession>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct SnapVxSession {
    /// this volume's own snapshots (as a source), by generation
    #[serde(rename = "srcSnapshotGenInfo", default)]
    pub own: Vec<Value>,
    /// the snapshot this volume is linked to (as a target)
    #[serde(rename = "tgtSrcSnapshotGenInfo")]
    pub linked_to: Option<TargetLink>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct TargetLink {
    #[serde(rename = "snapshotName")]
    pub name: String,
    #[serde(rename = "sourceDevice")]
    pub source: String,
    #[serde(default, deserialize_with = "flexible_u32_opt")]
    pub generation: Option<u32>,
    #[serde(default)]
    pub state: Option<String>,
}

impl TargetLink {
    /// Whether the link's copy is complete (or it never copies): it may
    /// be unlinked at once.
    pub fn defined(&self) -> bool {
        matches!(self.state.as_deref(), Some("Copied" | "Linked"))
    }
}

/// `GET /univmax/restapi/v1/systems/{array}/volumes` (enhanced API).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct VolumeDetails {
    #[serde(default)]
    pub volumes: Vec<VolumeDetail>,
}

/// One volume of the enhanced API, with the attributes the driver selects.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct VolumeDetail {
    pub id: String,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default, deserialize_with = "flexible_f64")]
    pub cap_gb: f64,
    #[serde(default, deserialize_with = "flexible_f64")]
    pub cap_mb: f64,
    #[serde(default)]
    pub wwn: String,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub snapvx_source: bool,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub snapvx_target: bool,
    #[serde(default)]
    pub storage_groups: Vec<Ref>,
    #[serde(default)]
    pub masking_views: Vec<Ref>,
}

/// A reference to another object in the enhanced API (`{"id": ...}`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Ref {
    pub id: String,
}

impl Volume {
    /// The size in GB: from `cap_mb` where the array gives it (exact), else `cap_gb`.
    pub fn size_gb(&self) -> f64 {
        if self.cap_mb > 0.0 {
            self.cap_mb / 1024.0
        } else {
            self.cap_gb
        }
    }
}

impl From<VolumeDetail> for Volume {
    fn from(d: VolumeDetail) -> Volume {
        Volume {
            volume_id: d.id,
            cap_gb: d.cap_gb,
            cap_mb: d.cap_mb,
            wwn: d.wwn,
            volume_identifier: d.identifier.filter(|i| !i.is_empty()),
            storage_groups: d.storage_groups.into_iter().map(|r| r.id).collect(),
            snapvx_source: d.snapvx_source,
            snapvx_target: d.snapvx_target,
            num_of_front_end_paths: 0,
            rdf_groups: vec![],
        }
    }
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
    /// The group's host I/O limits; absent when it has none.
    #[serde(rename = "hostIOLimit", default)]
    pub host_io_limit: Option<HostIoLimit>,
    /// Whether the group compresses (absent on releases that do not say).
    #[serde(default)]
    pub compression: Option<bool>,
}

/// A storage group's host I/O limits as the array shows them: each value
/// a whole number sent as a string ("100", some releases "100.0") or
/// `NOLIMIT`; here `None` for no limit.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct HostIoLimit {
    #[serde(default, deserialize_with = "io_limit")]
    pub host_io_limit_io_sec: Option<u32>,
    #[serde(default, deserialize_with = "io_limit")]
    pub host_io_limit_mb_sec: Option<u32>,
    #[serde(rename = "dynamicDistribution", default)]
    pub dynamic_distribution: Option<String>,
}

fn io_limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::Number(n)) => n.as_f64().map(|f| f as u32),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().map(|f| f as u32),
        _ => None,
    })
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

#[derive(Debug, Clone, Deserialize, Default)]
pub struct HostList {
    #[serde(rename = "hostId", default)]
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct MaskingViewList {
    #[serde(rename = "maskingViewId", default)]
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ArrayList {
    #[serde(rename = "symmetrixId", default)]
    pub ids: Vec<String>,
}

/// An initiator group (`GET {sp}/host/{host}`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Host {
    #[serde(rename = "hostId")]
    pub id: String,
    #[serde(default)]
    pub initiator: Vec<String>,
    #[serde(default)]
    pub maskingview: Vec<String>,
    #[serde(default)]
    pub num_of_masking_views: u64,
}

impl Host {
    /// Whether the host holds exactly these initiators (case-insensitive).
    pub fn holds_exactly(&self, initiators: &[&str]) -> bool {
        let mut mine: Vec<String> = self
            .initiator
            .iter()
            .map(|i| i.to_ascii_lowercase())
            .collect();
        let mut theirs: Vec<String> = initiators.iter().map(|i| i.to_ascii_lowercase()).collect();
        mine.sort();
        theirs.sort();
        mine == theirs
    }
}

/// `GET {sp}/initiator/{id}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Initiator {
    #[serde(rename = "initiatorId")]
    pub id: String,
    pub host: Option<String>,
}

/// `GET {sp}/maskingview/{mv}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct MaskingView {
    #[serde(rename = "maskingViewId")]
    pub id: String,
    #[serde(rename = "hostId")]
    pub host: Option<String>,
    #[serde(rename = "hostGroupId")]
    pub host_group: Option<String>,
    #[serde(rename = "portGroupId", default)]
    pub port_group: String,
    #[serde(rename = "storageGroupId", default)]
    pub storage_group: String,
}

/// One row of `GET {sp}/maskingview/{mv}/connections`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Connection {
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    #[serde(default)]
    pub host_lun_address: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Connections {
    #[serde(rename = "maskingViewConnection", default)]
    pub rows: Vec<Connection>,
}

/// `{"directorId": "SE-1E", "portId": "0"}` (8.4: `"SE-1E:0"`).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct PortKey {
    #[serde(rename = "directorId")]
    pub director: String,
    #[serde(rename = "portId")]
    pub port: String,
}

impl PortKey {
    /// The port number alone, whichever form the release sent.
    pub fn port_number(&self) -> &str {
        self.port.rsplit(':').next().unwrap_or(&self.port)
    }
}

/// `GET {sp}/portgroup/{pg}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PortGroup {
    #[serde(rename = "portGroupId")]
    pub id: String,
    #[serde(rename = "symmetrixPortKey", default)]
    pub ports: Vec<PortKey>,
    #[serde(default)]
    pub maskingview: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct SymmetrixPort {
    #[serde(default)]
    pub identifier: String,
    #[serde(default)]
    pub ip_addresses: Vec<String>,
}

/// `GET .../director/{dir}/port/{port}`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct DirectorPort {
    #[serde(rename = "symmetrixPort")]
    pub port: SymmetrixPort,
}

impl DirectorPort {
    /// The target IQN without the `,t,0x0001` some releases append.
    pub fn target_iqn(&self) -> &str {
        self.port.identifier.split(',').next().unwrap_or_default()
    }
}

/// One linked target of a snapshot generation.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct LinkedDevice {
    #[serde(rename = "targetDevice")]
    pub target: String,
    #[serde(default)]
    pub state: String,
    #[serde(default, deserialize_with = "flexible_bool")]
    pub defined: bool,
    #[serde(
        rename = "percentageCopied",
        default,
        deserialize_with = "flexible_f64"
    )]
    pub percent_copied: f64,
}

/// One generation of a snapshot of a source volume.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct SnapshotSrc {
    #[serde(rename = "snapshotName")]
    pub name: String,
    #[serde(default)]
    pub generation: u32,
    #[serde(default)]
    pub timestamp: String,
    #[serde(default)]
    pub state: String,
    #[serde(rename = "linkedDevices", default)]
    pub linked: Vec<LinkedDevice>,
}

/// The snapshot a volume is linked to as a target.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct SnapshotLnk {
    #[serde(rename = "linkSourceName", default)]
    pub source: String,
    #[serde(rename = "snapshotName", default)]
    pub name: String,
    #[serde(default)]
    pub generation: u32,
}

/// `GET /private/{ver}/replication/symmetrix/{array}/volume/{dev}/snapshot`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct VolumeSnapshots {
    #[serde(rename = "snapshotSrcs", default)]
    pub sources: Vec<SnapshotSrc>,
    #[serde(rename = "snapshotLnks", default)]
    pub links: Vec<SnapshotLnk>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct HeadroomRow {
    #[serde(rename = "headroomCapacity")]
    pub capacity: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Headroom {
    pub headroom: Option<Vec<HeadroomRow>>,
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

    #[test]
    fn export_shapes_parse_the_spec_examples() {
        let h: Host = serde_json::from_str(r#"{"hostId": "OS-myhost-I-IG", "num_of_initiators": 1, "initiator": ["iqn.1993-08.org.debian:01:abc"], "maskingview": ["OS-myhost-I-PG-MV"], "num_of_masking_views": 1}"#).unwrap();
        assert!(h.holds_exactly(&["IQN.1993-08.org.debian:01:abc"]));
        assert!(!h.holds_exactly(&["iqn.1993-08.org.debian:01:abc", "iqn.other"]));
        let mv: MaskingView = serde_json::from_str(r#"{"maskingViewId": "mv", "hostId": "h", "portGroupId": "pg", "storageGroupId": "sg"}"#).unwrap();
        assert_eq!(
            (
                mv.host.as_deref(),
                mv.port_group.as_str(),
                mv.storage_group.as_str()
            ),
            (Some("h"), "pg", "sg")
        );
        let c: Connections = serde_json::from_str(r#"{"maskingViewConnection": [{"volumeId": "0001A", "host_lun_address": "0001", "cap_gb": 10.0, "initiatorId": "iqn", "dir_port": "SE-1E:0", "logged_in": false, "on_fabric": false}]}"#).unwrap();
        assert_eq!(c.rows[0].host_lun_address, "0001");
        let pg: PortGroup = serde_json::from_str(r#"{"portGroupId": "OS-iscsi-PG", "num_of_ports": 1, "symmetrixPortKey": [{"directorId": "SE-1E", "portId": "SE-1E:0"}]}"#).unwrap();
        assert_eq!(pg.ports[0].port_number(), "0");
        let dp: DirectorPort = serde_json::from_str(r#"{"symmetrixPort": {"symmetrixPortKey": {"directorId": "SE-1E", "portId": "0"}, "identifier": "iqn.1992-04.com.emc:600009700bca30c01e3e012e00000001,t,0x0001", "ip_addresses": ["192.0.2.10"]}}"#).unwrap();
        assert_eq!(
            dp.target_iqn(),
            "iqn.1992-04.com.emc:600009700bca30c01e3e012e00000001"
        );
        let s: VolumeSnapshots = serde_json::from_str(r#"{"snapshotSrcs": [{"snapshotName": "snap1", "generation": 0, "timestamp": "Thu Nov 23 10:00:00 2026", "state": "Established", "linkedDevices": [{"targetDevice": "0001B", "percentageCopied": 100, "state": "Copied", "copy": true, "defined": true, "linked": true}]}], "snapshotLnks": []}"#).unwrap();
        assert!(s.sources[0].linked[0].defined);
    }
}
