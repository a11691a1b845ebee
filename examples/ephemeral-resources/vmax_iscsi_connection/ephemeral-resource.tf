variable "chap_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "vmax_volume" "db" {
  name    = "db01"
  size_gb = 100
}

# The export keeps only the CHAP user name: the secret is write-only.
resource "vmax_iscsi_export" "db" {
  volume_id = vmax_volume.db.id
  host      = "db-host-1"
  initiator = "iqn.1993-08.org.debian:01:db-host-1"

  chap {
    username          = "db-host-1"
    secret_wo         = var.chap_secret
    secret_wo_version = 1
  }
}

# The full connection properties, secret included, for ephemeral uses only.
# The export's id is known once the export exists, so the connection is
# read after the export is made, never before.
ephemeral "vmax_iscsi_connection" "db" {
  volume_id     = split(":", vmax_iscsi_export.db.id)[0]
  host          = vmax_iscsi_export.db.host
  chap_username = "db-host-1"
  chap_secret   = var.chap_secret
}
