# A volume group is imported by its name (the storage group OS-<name>-VG).
terraform import vmax_volume_group.erp erp
