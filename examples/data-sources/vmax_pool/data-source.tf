data "vmax_pool" "diamond" {
  service_level = "Diamond"
  workload      = "OLTP"
}

output "diamond_free_gb" {
  value = data.vmax_pool.diamond.free_capacity_gb
}
