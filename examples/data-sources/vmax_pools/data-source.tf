# Every pool of the provider's SRP, e.g. to pick the one with the most room.
data "vmax_pools" "all" {}

output "free_gb_by_pool" {
  value = { for p in data.vmax_pools.all.pools : p.pool_name => p.free_capacity_gb }
}
