# Quickstart: a VMAX volume on the simulator (or a real array).
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

resource "vmax_volume" "data" {
  name          = "quickstart-data"
  size_gb       = 10
  service_level = "Diamond"
  workload      = "OLTP"
}

output "volume_id" {
  description = "The new volume's device id."
  value       = vmax_volume.data.id
}

output "volume_wwn" {
  value = vmax_volume.data.wwn
}

output "storage_group" {
  value = vmax_volume.data.storage_group
}
