resource "vmax_volume" "db" {
  name          = "db01"
  size_gb       = 100
  service_level = "Diamond"
  workload      = "OLTP"

  timeouts {
    create = "10m"
  }
}

# A volume without a service level, kept on the array when destroyed.
resource "vmax_volume" "scratch" {
  name            = "scratch01"
  size_gb         = 10
  service_level   = "None"
  deletion_policy = "unmanage"
}
