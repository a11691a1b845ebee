provider "vmax" {
  endpoint     = "https://unisphere.example.com:8443"
  username     = "smc"
  password     = var.unisphere_password
  array        = "000197800123"
  srp          = "SRP_1"
  port_groups  = ["OS-iscsi-PG"]
  ca_cert_file = "/etc/ssl/unisphere-ca.pem"
}

variable "unisphere_password" {
  type      = string
  sensitive = true
}
