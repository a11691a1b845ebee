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

/// Whether a group name is one of this provider's per-policy default groups
/// (`OS-...-SG`, not an export's `OS-<host>-I-<pg>-SG` parent).
pub fn is_default_group(sg: &str) -> bool {
    sg.starts_with(MANAGED_PREFIX) && sg.ends_with("-SG") && !sg.contains("-I-")
}

/// A storage policy: SRP, service level and workload (`None` = none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    pub srp: String,
    pub slo: Option<String>,
    pub workload: Option<String>,
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
        }
    }

    /// `OS-<srp>-<slo>-<workload>-SG`, `OS-<srp>-<slo>-SG`, or `OS-no_SLO-SG`.
    pub fn default_storage_group(&self) -> String {
        match (&self.slo, &self.workload) {
            (None, _) => NO_SLO_GROUP.to_string(),
            (Some(s), None) => format!("OS-{}-{s}-SG", self.srp),
            (Some(s), Some(w)) => format!("OS-{}-{s}-{w}-SG", self.srp),
        }
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
