# A group snapshot, by <group name>:<snapshot name>.
import {
  to = vmax_volume_group_snapshot.nightly
  id = "crm:nightly"
}
