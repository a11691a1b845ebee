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

# Host I/O limits and no compression: the volume gets a group of its own
# policy (OS-SRP_1-Diamond-OLTP-CD-Q5000IO-200MB-OnFail-SG), so the limits
# apply to volumes asking for exactly these limits and to no other.
resource "vmax_volume" "reports" {
  name          = "reports01"
  size_gb       = 50
  service_level = "Diamond"
  workload      = "OLTP"
  compression   = false

  qos {
    max_iops     = 5000
    max_mbps     = 200
    distribution = "OnFailure"
  }
}
