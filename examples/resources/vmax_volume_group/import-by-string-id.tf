# A volume group, by its name (the storage group OS-<name>-VG).
import {
  to = vmax_volume_group.erp
  id = "erp"
}
