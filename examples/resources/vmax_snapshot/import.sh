# Import a snapshot by <volume device id>:<snapshot name>.
terraform import vmax_snapshot.nightly 0001A:nightly
