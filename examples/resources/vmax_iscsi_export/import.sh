# Import an existing export by <device id>:<host>.
terraform import vmax_iscsi_export.data_to_compute1 0001A:compute-1.example.com
