# The volumes an older tool made, named legacy-*, taken over with import
# blocks: one vmax_volume per volume found. The first apply renames them to
# OS-legacy-*, so the filter takes both forms and the key is the name
# without the prefix: the listing stays the same after the takeover.
data "vmax_volumes" "legacy" {
  identifier_regex = "^(OS-)?legacy-"
}

locals {
  legacy = { for v in data.vmax_volumes.legacy.volumes : v.name => v }
}

import {
  for_each = local.legacy
  to       = vmax_volume.legacy[each.key]
  id       = each.value.id
}

resource "vmax_volume" "legacy" {
  for_each        = local.legacy
  name            = each.key
  size_gb         = each.value.size_gb
  service_level   = each.value.service_level
  deletion_policy = "unmanage"
}
