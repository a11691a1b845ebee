# This provider's groups of the Diamond service level, and their limits.
data "vmax_storage_groups" "diamond" {
  managed_only  = true
  service_level = "Diamond"
}

output "diamond_groups" {
  value = { for g in data.vmax_storage_groups.diamond.storage_groups : g.name => g.max_iops }
}
