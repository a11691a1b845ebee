# A group snapshot is imported as <group name>:<snapshot name>.
terraform import vmax_volume_group_snapshot.nightly crm:nightly
