# Which initiator group holds a host's initiator, and its views.
data "vmax_hosts" "db" {
  initiator = "iqn.1993-08.org.debian:01:db-host-1"
}

output "db_host_views" {
  value = flatten([for h in data.vmax_hosts.db.hosts : h.masking_views])
}
