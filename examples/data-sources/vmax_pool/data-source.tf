data "vmax_pool" "diamond" {
  service_level = "Diamond"
  workload      = "OLTP"
}

output "diamond_free_gb" {
  value = data.vmax_pool.diamond.free_capacity_gb
}

# Every pool of the SRP, e.g. to pick the one with the most room.
output "pools" {
  value = { for p in data.vmax_pool.diamond.pools : p.pool_name => p.free_capacity_gb }
}
