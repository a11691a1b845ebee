# Quickstart: check a pool's room, make a volume, and export it to a host.
# The provider reads its connection from VMAX_* environment variables;
# `make demo` sets them for the bundled simulator.

terraform {
  required_providers {
    vmax = {
      source = "local/vmax"
    }
  }
}

provider "vmax" {}

variable "size_gb" {
  type    = number
  default = 10
}

data "vmax_pool" "diamond" {
  service_level = "Diamond"
  workload      = "OLTP"
}

resource "vmax_volume" "data" {
  name          = "quickstart-data"
  size_gb       = var.size_gb
  service_level = "Diamond"
  workload      = "OLTP"

  lifecycle {
    precondition {
      condition     = data.vmax_pool.diamond.free_capacity_gb >= var.size_gb * 2
      error_message = "Pool ${data.vmax_pool.diamond.pool_name} has too little free capacity for a ${var.size_gb} GB volume (keeping the same again free)."
    }
  }
}

resource "vmax_snapshot" "data" {
  volume_id = vmax_volume.data.id
  name      = "quickstart-snap"
}

resource "vmax_iscsi_export" "data" {
  volume_id  = vmax_volume.data.id
  host       = "quickstart-host"
  initiator  = "iqn.1993-08.org.debian:01:quickstart"
  port_group = "OS-iscsi-PG"
}

output "volume_id" {
  description = "The new volume's device id."
  value       = vmax_volume.data.id
}

output "snapshot_id" {
  value = vmax_snapshot.data.id
}

output "pool_free_gb" {
  value = data.vmax_pool.diamond.free_capacity_gb
}

output "iscsi_portals" {
  value = vmax_iscsi_export.data.target_portals
}

output "iscsi_lun" {
  value = vmax_iscsi_export.data.host_lun_id
}
