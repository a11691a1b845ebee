resource "vmax_volume" "db" {
  name          = "orders01"
  size_gb       = 100
  service_level = "Diamond"
}

resource "vmax_snapshot" "nightly" {
  volume_id = vmax_volume.db.id
  name      = "nightly"
}

# A test copy of production data, larger than the source, from the snapshot.
resource "vmax_volume" "db_test_copy" {
  name          = "orders01-test"
  size_gb       = 200
  service_level = "Silver"

  source {
    snapshot_id = vmax_snapshot.nightly.id
  }
}

# A full clone, unlinked once the copy is complete.
resource "vmax_volume" "db_clone" {
  name          = "orders01-clone"
  size_gb       = 100
  service_level = "Diamond"
  wait_for_copy = true

  source {
    volume_id = vmax_volume.db.id
  }
}
