data "vmax_volume" "existing" {
  name = "db01"
}

output "existing_wwn" {
  value = data.vmax_volume.existing.wwn
}
