# A snapshot, by <volume device id>:<snapshot name>.
import {
  to = vmax_snapshot.nightly
  id = "0001A:nightly"
}
