resource "vmax_volume" "data" {
  name          = "data01"
  size_gb       = 50
  service_level = "Diamond"
}

resource "vmax_iscsi_export" "data_to_compute1" {
  volume_id = vmax_volume.data.id
  host      = "compute-1.example.com"
  initiator = "iqn.1993-08.org.debian:01:compute1"
  multipath = true
}

# What the host needs to log in (iscsiadm, a VM or a Kubernetes node).
output "portals" {
  value = vmax_iscsi_export.data_to_compute1.target_portals
}

output "lun" {
  value = vmax_iscsi_export.data_to_compute1.host_lun_id
}
