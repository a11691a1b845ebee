# Take over an existing volume by its device id. The imported state has
# deletion_policy = "unmanage"; the first apply renames the volume to
# OS-<name> and moves it into its policy's default group.
import {
  to = vmax_volume.db
  id = "0001A"
}
