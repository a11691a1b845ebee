# SRDF/S: a replicated volume and an export that follows its active side.
# Against vmax-sim, the partner array is 000197800124 and the RDF group is
# labelled os-rdf. Set replication_active_side = "remote" to fail over.
terraform {
  required_providers {
    vmax = { source = "local/vmax" }
  }
}

variable "endpoint" {
  type    = string
  default = "https://127.0.0.1:8443"
}

provider "vmax" {
  endpoint    = var.endpoint
  username    = "smc"
  password    = "smc"
  array       = "000197800123"
  insecure    = true
  port_groups = ["OS-iscsi-PG"]

  replication {
    remote_array       = "000197800124"
    remote_port_groups = ["OS-iscsi-PG"]
    rdf_group_label    = "os-rdf"
    allow_extend       = true
  }
}

resource "vmax_volume" "db" {
  name                    = "db01"
  size_gb                 = 10
  service_level           = "Diamond"
  replicated              = true
  replication_active_side = "local"
}

resource "vmax_iscsi_export" "db" {
  volume_id   = vmax_volume.db.id
  active_side = vmax_volume.db.replication_active_side
  host        = "db-host-1"
  initiator   = "iqn.1993-08.org.debian:01:db-host-1"
}

output "serving" {
  value = {
    array     = vmax_iscsi_export.db.array
    device    = vmax_iscsi_export.db.device_id
    pair      = vmax_volume.db.replication_state
    twin      = vmax_volume.db.remote_device_id
    target_ip = vmax_iscsi_export.db.target_portal
  }
}
