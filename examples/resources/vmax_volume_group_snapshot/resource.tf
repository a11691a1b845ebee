resource "vmax_volume" "data" {
  name          = "crm-data"
  size_gb       = 100
  service_level = "Diamond"
}

resource "vmax_volume" "log" {
  name          = "crm-log"
  size_gb       = 100
  service_level = "Gold"
}

resource "vmax_volume_group" "crm" {
  name       = "crm"
  volume_ids = [vmax_volume.data.id, vmax_volume.log.id]
}

# A consistent snapshot of every member of the group, at one instant.
resource "vmax_volume_group_snapshot" "nightly" {
  group_id = vmax_volume_group.crm.id
  name     = "nightly"
}

# A copy of the whole group from that snapshot: one volume per member.
# (The map's keys are device ids, known once the snapshot exists: apply the
# snapshot first, then add the copies.)
resource "vmax_volume" "crm_copy" {
  for_each      = vmax_volume_group_snapshot.nightly.snapshot_ids
  name          = "crm-copy-${each.key}"
  size_gb       = 100
  service_level = "Silver"

  source {
    snapshot_id = each.value
  }
}
