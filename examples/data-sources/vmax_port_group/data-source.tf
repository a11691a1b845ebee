data "vmax_port_group" "iscsi" {
  name = "OS-iscsi-PG"
}

output "portals" {
  value = data.vmax_port_group.iscsi.target_portals
}
