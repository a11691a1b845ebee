# An existing export, by <device id>:<host>.
import {
  to = vmax_iscsi_export.data_to_compute1
  id = "0001A:compute-1.example.com"
}
