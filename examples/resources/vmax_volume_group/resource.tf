resource "vmax_volume" "data" {
  name          = "erp-data"
  size_gb       = 200
  service_level = "Diamond"
}

resource "vmax_volume" "log" {
  name          = "erp-log"
  size_gb       = 20
  service_level = "Gold"
}

# The database's volumes, so that they can be snapshotted together.
resource "vmax_volume_group" "erp" {
  name       = "erp"
  volume_ids = [vmax_volume.data.id, vmax_volume.log.id]
}
