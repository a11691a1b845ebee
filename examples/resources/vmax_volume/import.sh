# Import an existing volume by its device id (five hex digits).
# The first apply afterwards renames it to OS-<name> and moves it into the
# default storage group of its service level.
terraform import vmax_volume.db 0001A
