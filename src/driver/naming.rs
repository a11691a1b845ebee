//! The seed driver's naming conventions, kept so that arrays managed by
//! OpenStack and by this provider look alike.

use md5::{Digest, Md5};

/// Prefix that marks a volume as managed.
pub const MANAGED_PREFIX: &str = "OS-";

/// Whether a refused move or addition says its target group `sg` is
/// missing: a 404, or a 400 that names the group (arrays differ).
pub fn names_missing_group(e: &crate::unisphere::Error, sg: &str) -> bool {
    e.is_not_found() || (e.status() == Some(400) && e.message().contains(sg))
}

/// The default group of volumes without a service level.
pub const NO_SLO_GROUP: &str = "OS-no_SLO-SG";
/// ... and of replicated ones.
pub const NO_SLO_RE_GROUP: &str = "OS-no_SLO-RE-SG";

/// Whether a group name is one of this provider's per-policy default groups
/// (`OS-...-SG`, not an export's `OS-<host>-I-<pg>-SG` parent).
pub fn is_default_group(sg: &str) -> bool {
    sg.starts_with(MANAGED_PREFIX) && sg.ends_with("-SG") && !sg.contains("-I-")
}

/// How a host I/O limit is spread over the directors of a port group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Distribution {
    #[default]
    Never,
    OnFailure,
    Always,
}

impl Distribution {
    pub const NAMES: [&'static str; 3] = ["Never", "OnFailure", "Always"];

    pub fn parse(s: &str) -> Option<Distribution> {
        match s {
            "Never" => Some(Distribution::Never),
            "OnFailure" => Some(Distribution::OnFailure),
            "Always" => Some(Distribution::Always),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The host I/O limits of a policy (the array's range: 100 to 100,000
/// IO/s in steps of 100, 1 to 100,000 MB/s). `None` = no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Qos {
    pub max_iops: Option<u32>,
    pub max_mbps: Option<u32>,
    pub distribution: Distribution,
}

pub const IOPS_RANGE: (u32, u32) = (100, 100_000);
pub const IOPS_STEP: u32 = 100;
pub const MBPS_RANGE: (u32, u32) = (1, 100_000);

impl Qos {
    /// Limits with neither value set are no limits.
    pub fn limits(self) -> Option<Qos> {
        (self.max_iops.is_some() || self.max_mbps.is_some()).then_some(self)
    }

    /// The readable group-name part: `-Q<iops>IO`, `-<mbps>MB` (`-Q<mbps>MB`
    /// alone), then `-OnFail` or `-Always` unless the distribution is `Never`.
    pub fn suffix(&self) -> String {
        let mut s = String::from("-Q");
        match (self.max_iops, self.max_mbps) {
            (Some(i), Some(m)) => s.push_str(&format!("{i}IO-{m}MB")),
            (Some(i), None) => s.push_str(&format!("{i}IO")),
            (None, Some(m)) => s.push_str(&format!("{m}MB")),
            (None, None) => return String::new(),
        }
        match self.distribution {
            Distribution::Never => {}
            Distribution::OnFailure => s.push_str("-OnFail"),
            Distribution::Always => s.push_str("-Always"),
        }
        s
    }

    /// Checks the array's ranges; the message names the attribute.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(i) = self.max_iops
            && (i < IOPS_RANGE.0 || i > IOPS_RANGE.1 || i % IOPS_STEP != 0)
        {
            return Err((
                "qos.max_iops",
                format!(
                    "max_iops must be {} to {} IO/s in steps of {IOPS_STEP} (the array's host I/O limit), not {i}",
                    IOPS_RANGE.0, IOPS_RANGE.1
                ),
            ));
        }
        if let Some(m) = self.max_mbps
            && (m < MBPS_RANGE.0 || m > MBPS_RANGE.1)
        {
            return Err((
                "qos.max_mbps",
                format!(
                    "max_mbps must be {} to {} MB/s (the array's host I/O limit), not {m}",
                    MBPS_RANGE.0, MBPS_RANGE.1
                ),
            ));
        }
        Ok(())
    }
}

/// A policy's compression: the array's default (compressed on arrays that
/// compress), asked for, or disabled (the seed's `-CD` groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    #[default]
    Default,
    On,
    Off,
}

impl Compression {
    pub fn from_choice(c: Option<bool>) -> Compression {
        match c {
            None => Compression::Default,
            Some(true) => Compression::On,
            Some(false) => Compression::Off,
        }
    }

    pub fn choice(self) -> Option<bool> {
        match self {
            Compression::Default => None,
            Compression::On => Some(true),
            Compression::Off => Some(false),
        }
    }
}

/// A storage policy: SRP, service level and workload (`None` = none),
/// compression and host I/O limits. Each policy has its own default group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    pub srp: String,
    pub slo: Option<String>,
    pub workload: Option<String>,
    /// Only with a service level (the array compresses only such groups).
    pub compression: Compression,
    /// Only with a service level; never limits with no value.
    pub qos: Option<Qos>,
    /// SRDF-replicated volumes have groups of their own (the seed's `-RE`).
    pub replicated: bool,
}

impl Policy {
    pub fn new(srp: &str, slo: Option<&str>, workload: Option<&str>) -> Self {
        let clean = |s: Option<&str>| {
            s.filter(|x| !x.is_empty() && !x.eq_ignore_ascii_case("none"))
                .map(String::from)
        };
        Policy {
            srp: srp.to_string(),
            slo: clean(slo),
            workload: clean(workload),
            compression: Compression::Default,
            qos: None,
            replicated: false,
        }
    }

    /// The same policy for a replicated volume (or not).
    pub fn replicated(mut self, on: bool) -> Self {
        self.replicated = on;
        self
    }

    /// The same policy with this compression and these limits (dropped
    /// without a service level, as the array has no such groups).
    pub fn with(mut self, compression: Compression, qos: Option<Qos>) -> Self {
        if self.slo.is_some() {
            self.compression = compression;
            self.qos = qos.and_then(Qos::limits);
        }
        self
    }

    /// The policy's group-name suffix after the service level: `-CD` when
    /// compression is disabled, then the limits' suffix.
    fn settings_suffix(&self) -> String {
        let mut s = String::new();
        if self.compression == Compression::Off {
            s.push_str("-CD");
        }
        if self.replicated {
            s.push_str("-RE");
        }
        if let Some(q) = &self.qos {
            s.push_str(&q.suffix());
        }
        s
    }

    /// `OS-<srp>-<slo>-<workload>[-CD][-RE][<limits>]-SG`, without the workload
    /// part when there is none, or `OS-no_SLO-SG`. A name longer than the
    /// array's 64 characters keeps its suffix whole and shortens the
    /// `<srp>-<slo>-<workload>` part, marked with 4 hex digits of the full
    /// name's md5 (so different policies never share a group).
    pub fn default_storage_group(&self) -> String {
        let body = match (&self.slo, &self.workload) {
            (None, _) if self.replicated => return NO_SLO_RE_GROUP.to_string(),
            (None, _) => return NO_SLO_GROUP.to_string(),
            (Some(s), None) => format!("{}-{s}", self.srp),
            (Some(s), Some(w)) => format!("{}-{s}-{w}", self.srp),
        };
        let suffix = self.settings_suffix();
        let full = format!("OS-{body}{suffix}-SG");
        if full.len() <= 64 {
            return full;
        }
        let digest = &hex::encode(Md5::digest(full.as_bytes()))[..4];
        let keep = 64 - "OS-".len() - suffix.len() - "-SG".len() - 5;
        format!("OS-{}-{digest}{suffix}-SG", truncate_middle(&body, keep))
    }

    /// The policy whose default group is `sg`, for a volume of service
    /// level `slo` and workload `workload` (as the array reports them);
    /// `None` when `sg` is not such a group's name.
    pub fn from_default_group(sg: &str, slo: &str, workload: Option<&str>) -> Option<Policy> {
        let mut rest = sg.strip_prefix(MANAGED_PREFIX)?.strip_suffix("-SG")?;
        let mut qos = None;
        if let Some(i) = rest.rfind("-Q")
            && let Some(q) = parse_qos_suffix(&rest[i..])
        {
            qos = Some(q);
            rest = &rest[..i];
        }
        let mut replicated = false;
        if let Some(r) = rest.strip_suffix("-RE") {
            replicated = true;
            rest = r;
        }
        let mut compression = Compression::Default;
        if let Some(r) = rest.strip_suffix("-CD") {
            compression = Compression::Off;
            rest = r;
        }
        let tail = match workload {
            Some(w) => format!("-{slo}-{w}"),
            None => format!("-{slo}"),
        };
        let srp = rest.strip_suffix(&tail)?;
        let p = Policy::new(srp, Some(slo), workload)
            .with(compression, qos)
            .replicated(replicated);
        (p.default_storage_group() == sg).then_some(p)
    }

    /// `<slo>+<workload>+<srp>+<array>` with `None` for missing parts.
    pub fn pool_name(&self, array: &str) -> String {
        format!(
            "{}+{}+{}+{array}",
            self.slo.as_deref().unwrap_or("None"),
            self.workload.as_deref().unwrap_or("None"),
            self.srp
        )
    }

    /// `<array>#<srp>#<slo>#<workload>`.
    pub fn location_info(&self, array: &str) -> String {
        format!(
            "{array}#{}#{}#{}",
            self.srp,
            self.slo.as_deref().unwrap_or("None"),
            self.workload.as_deref().unwrap_or("None")
        )
    }
}

/// Reads a [`Qos::suffix`] back (`-Q5000IO-200MB-OnFail`).
fn parse_qos_suffix(s: &str) -> Option<Qos> {
    let mut parts = s.strip_prefix("-Q")?.split('-');
    let mut q = Qos::default();
    let first = parts.next()?;
    let num = |p: &str, unit: &str| p.strip_suffix(unit)?.parse::<u32>().ok();
    if let Some(i) = num(first, "IO") {
        q.max_iops = Some(i);
    } else {
        q.max_mbps = Some(num(first, "MB")?);
    }
    for p in parts {
        match p {
            "OnFail" if q.distribution == Distribution::Never => {
                q.distribution = Distribution::OnFailure
            }
            "Always" if q.distribution == Distribution::Never => {
                q.distribution = Distribution::Always
            }
            _ if q.max_mbps.is_none() && q.distribution == Distribution::Never => {
                q.max_mbps = Some(num(p, "MB")?)
            }
            _ => return None,
        }
    }
    (q.suffix() == s).then_some(q)
}

/// The array's rule for names of storage groups, hosts, port groups and
/// masking views: 1 to 64 characters of letters, digits, `_` and `-`.
pub fn check_object_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Err(format!(
            "{kind} name {name:?} must be 1 to 64 letters, digits, '_' and '-' (the array's rule for object names)"
        ))
    } else {
        Ok(())
    }
}

/// `OS-<name>`.
pub fn volume_identifier(name: &str) -> String {
    format!("{MANAGED_PREFIX}{name}")
}

/// The name inside an identifier, without the managed prefix.
pub fn name_from_identifier(identifier: &str) -> &str {
    identifier
        .strip_prefix(MANAGED_PREFIX)
        .unwrap_or(identifier)
}

/// Keeps the first and last halves of a string longer than `max`.
pub fn truncate_middle(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let head = max / 2;
    let tail = max - head;
    chars[..head]
        .iter()
        .chain(&chars[chars.len() - tail..])
        .collect()
}

/// The seed's short host name: up to the first dot; when longer than
/// `max`, its last 6 characters plus the md5 of the lowercased name, cut
/// to `max` by keeping the first and last halves.
pub fn short_name(name: &str, max: usize) -> String {
    let short = name.split('.').next().unwrap_or(name);
    if short.chars().count() <= max {
        return short.to_string();
    }
    let last6: String = {
        let c: Vec<char> = short.chars().collect();
        c[c.len().saturating_sub(6)..].iter().collect()
    };
    let digest = hex::encode(Md5::digest(short.to_lowercase().as_bytes()));
    truncate_middle(&format!("{last6}{digest}"), max)
}

pub fn short_host_name(host: &str) -> String {
    short_name(host, 16)
}

pub fn short_port_group_name(pg: &str) -> String {
    short_name(pg, 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_groups_follow_the_seed() {
        assert_eq!(
            Policy::new("SRP_1", Some("Diamond"), Some("DSS")).default_storage_group(),
            "OS-SRP_1-Diamond-DSS-SG"
        );
        assert_eq!(
            Policy::new("SRP_1", Some("Gold"), None).default_storage_group(),
            "OS-SRP_1-Gold-SG"
        );
        assert_eq!(
            Policy::new("SRP_1", Some("None"), None).default_storage_group(),
            "OS-no_SLO-SG"
        );
        assert_eq!(
            Policy::new("SRP_1", Some("Diamond"), Some("DSS")).pool_name("000197800123"),
            "Diamond+DSS+SRP_1+000197800123"
        );
        assert_eq!(
            Policy::new("SRP_1", None, None).location_info("000197800123"),
            "000197800123#SRP_1#None#None"
        );
    }

    #[test]
    fn policies_with_settings_have_their_own_groups() {
        let base = Policy::new("SRP_1", Some("Diamond"), Some("OLTP"));
        let q = |i, m, d| Qos {
            max_iops: i,
            max_mbps: m,
            distribution: d,
        };
        let cases = [
            (Compression::Default, None, "OS-SRP_1-Diamond-OLTP-SG"),
            (Compression::On, None, "OS-SRP_1-Diamond-OLTP-SG"),
            (Compression::Off, None, "OS-SRP_1-Diamond-OLTP-CD-SG"),
            (
                Compression::Default,
                Some(q(Some(5000), Some(200), Distribution::OnFailure)),
                "OS-SRP_1-Diamond-OLTP-Q5000IO-200MB-OnFail-SG",
            ),
            (
                Compression::Off,
                Some(q(None, Some(200), Distribution::Never)),
                "OS-SRP_1-Diamond-OLTP-CD-Q200MB-SG",
            ),
            (
                Compression::Default,
                Some(q(Some(100), None, Distribution::Always)),
                "OS-SRP_1-Diamond-OLTP-Q100IO-Always-SG",
            ),
        ];
        let re = base.clone().with(Compression::Off, None).replicated(true);
        assert_eq!(re.default_storage_group(), "OS-SRP_1-Diamond-OLTP-CD-RE-SG");
        assert_eq!(
            Policy::from_default_group("OS-SRP_1-Diamond-OLTP-CD-RE-SG", "Diamond", Some("OLTP")),
            Some(re)
        );
        for (c, qos, name) in cases {
            let p = base.clone().with(c, qos);
            assert_eq!(p.default_storage_group(), name);
            let back = Policy::from_default_group(name, "Diamond", Some("OLTP")).unwrap();
            assert_eq!(back.qos, p.qos, "{name}");
            assert_eq!(back.default_storage_group(), name);
        }
        // limits with no value are no limits; no settings without a level
        assert_eq!(
            base.clone()
                .with(
                    Compression::Default,
                    Some(q(None, None, Distribution::Always))
                )
                .qos,
            None
        );
        let none = Policy::new("SRP_1", None, None).with(
            Compression::Off,
            Some(q(Some(100), None, Distribution::Never)),
        );
        assert_eq!(none.default_storage_group(), NO_SLO_GROUP);
        // the longest names stay within 64 characters and stay apart
        let worst = |srp: &str, i| {
            Policy::new(srp, Some("Platinum"), Some("OLTP_REP"))
                .with(
                    Compression::Off,
                    Some(q(Some(i), Some(100_000), Distribution::OnFailure)),
                )
                .default_storage_group()
        };
        let a = worst("SRP_1", 100_000);
        assert!(a.len() <= 64, "{a}");
        let long = "A_VERY_LONG_STORAGE_RESOURCE_POOL_NAME";
        let (b, c) = (worst(long, 100_000), worst(long, 99_900));
        assert!(b.len() <= 64 && c.len() <= 64, "{b} {c}");
        assert_ne!(b, c);
        assert!(b.ends_with("-CD-Q100000IO-100000MB-OnFail-SG"), "{b}");
        assert_ne!(
            worst("A_VERY_LONG_STORAGE_RESOURCE_POOL_NAME_2", 100),
            worst("A_VERY_LONG_STORAGE_RESOURCE_POOL_NAME_3", 100)
        );
        // names that are not such groups
        assert!(
            Policy::from_default_group("OS-SRP_1-Diamond-OLTP-Qx-SG", "Diamond", Some("OLTP"))
                .is_none()
        );
        assert!(Policy::from_default_group("mine", "Diamond", None).is_none());
    }

    #[test]
    fn limits_follow_the_array_ranges() {
        let q = |i, m| Qos {
            max_iops: i,
            max_mbps: m,
            distribution: Distribution::Never,
        };
        assert!(q(Some(100), Some(1)).check().is_ok());
        assert!(q(Some(100_000), Some(100_000)).check().is_ok());
        assert_eq!(q(Some(99), None).check().unwrap_err().0, "qos.max_iops");
        assert_eq!(q(Some(150), None).check().unwrap_err().0, "qos.max_iops");
        assert_eq!(q(None, Some(0)).check().unwrap_err().0, "qos.max_mbps");
        assert_eq!(
            q(None, Some(100_001)).check().unwrap_err().0,
            "qos.max_mbps"
        );
    }

    #[test]
    fn identifiers() {
        assert_eq!(volume_identifier("vol1"), "OS-vol1");
        assert_eq!(name_from_identifier("OS-vol1"), "vol1");
        assert_eq!(name_from_identifier("legacy"), "legacy");
    }

    #[test]
    fn short_names_hash_long_hosts() {
        assert_eq!(short_host_name("myhost.example.com"), "myhost");
        let long = short_host_name("averyveryverylonghostname.example.com");
        assert_eq!(long.chars().count(), 16);
        assert!(long.starts_with("stname"), "{long}");
        assert_eq!(long, short_host_name("averyveryverylonghostname"));
        assert_eq!(short_port_group_name("OS-iscsi-PG"), "OS-iscsi-PG");
        assert_eq!(
            short_port_group_name("OS-a-very-long-port-group")
                .chars()
                .count(),
            12
        );
        assert_eq!(truncate_middle("abcdefghij", 4), "abij");
    }
}
