"""A provisioning round with Dell's real PyU4V library against vmax-sim.

Usage: pyu4v_round.py HOST PORT CA_FILE [powermax]
Creates a storage group with a volume, finds the volume by name, expands
it, renames it, removes it from the group and deletes it; then a masking
round (host, masking view, connections, clean-up); storage-group list
filters; the enhanced API (volumes and storage groups with select and
filter); port groups and the port list; system health; storage-group
SnapVX by generation. With `powermax` (a PowerMax 5978 seed file): only
the storage-group SnapVX round, by snap id. Exits non-zero with a
message on the first step that does not behave as on an array.
"""
import sys

import PyU4V

host, port, ca = sys.argv[1], sys.argv[2], sys.argv[3]
powermax = len(sys.argv) > 4 and sys.argv[4] == "powermax"
array = "000120000456" if powermax else "000197800123"
conn = PyU4V.U4VConn(username="smc", password="smc", server_ip=host, port=port,
                     array_id=array, verify=ca)
prov = conn.provisioning


def check(cond, what):
    if not cond:
        print(f"pyu4v: FAILED: {what}")
        sys.exit(1)
    print(f"pyu4v: ok: {what}")


rep = conn.replication


def sg_snapvx_round(by_snap_id):
    """Storage-group SnapVX: snapshot, list, link, unlink, terminate."""
    src, tgt = "pyu4v_snap_src", "pyu4v_snap_tgt"
    for g in (src, tgt):
        prov.create_non_empty_storage_group(srp_id="SRP_1", storage_group_id=g, service_level="Diamond",
                                            workload=None, num_vols=2, vol_size="1", cap_unit="GB")
    rep.create_storage_group_snapshot(src, "pyu4v_snap")
    rep.create_storage_group_snapshot(src, "pyu4v_snap")
    check(rep.get_storage_group_snapshot_list(src) == ["pyu4v_snap"], "storage-group snapshot listed")
    if by_snap_id:
        ids = rep.get_storage_group_snapshot_snap_id_list(src, "pyu4v_snap")
        check(len(ids) == 2 and all(isinstance(i, int) for i in ids), f"snap ids listed: {ids}")
        older = rep.get_snapshot_snap_id_details(src, "pyu4v_snap", ids[1])
        check(older["generation"] == 1 and older["numSourceVolumes"] == 2, "snap id details: the older generation")
        rep.link_snapshot_by_snap_id(src, tgt, "pyu4v_snap", ids[1])
        check(rep.get_snapshot_snap_id_details(src, "pyu4v_snap", ids[1])["isLinked"]
              and not rep.get_snapshot_snap_id_details(src, "pyu4v_snap", ids[0])["isLinked"],
              "the snap id named was linked, not generation 0")
        rep.unlink_snapshot_by_snap_id(src, tgt, "pyu4v_snap", ids[1])
        for i in ids:
            rep.delete_storage_group_snapshot_by_snap_id(src, "pyu4v_snap", i)
    else:
        gens = rep.get_storage_group_snapshot_generation_list(src, "pyu4v_snap")
        check(gens == [0, 1], f"generations listed: {gens}")
        rep.link_gen_snapshot(src, "pyu4v_snap", tgt, gen_num=1)
        check(rep.get_snapshot_generation_details(src, "pyu4v_snap", 1)["isLinked"], "generation 1 linked")
        try:
            rep.delete_storage_group_snapshot(src, "pyu4v_snap", 1)
            refused = False
        except Exception:
            refused = True
        check(refused, "terminating a linked generation is refused")
        rep.unlink_gen_snapshot(src, "pyu4v_snap", tgt, gen_num=1)
        rep.delete_storage_group_snapshot(src, "pyu4v_snap", 1)
        rep.delete_storage_group_snapshot(src, "pyu4v_snap", 0)
    check(rep.get_storage_group_snapshot_list(src) == [], "storage-group snapshots terminated")
    for g in (src, tgt):
        for d in prov.get_volumes_from_storage_group(g):
            prov.remove_volume_from_storage_group(g, d)
            prov.delete_volume(d)
        prov.delete_storage_group(g)


if powermax:
    sg_snapvx_round(by_snap_id=True)
    conn.close_session()
    print("pyu4v: PowerMax storage-group SnapVX round passed")
    sys.exit(0)

sg_snapvx_round(by_snap_id=False)

sg = "pyu4v_round_sg"
prov.create_storage_group(srp_id="SRP_1", sg_id=sg, slo="Diamond", workload=None,
                          num_vols=1, vol_size="1", cap_unit="GB",
                          vol_name="pyu4v_vol")
check(sg in prov.get_storage_group_list(), "storage group created")
dev = prov.find_volume_device_id(volume_name="pyu4v_vol")
if isinstance(dev, list):
    dev = dev[0] if len(dev) == 1 else None
check(isinstance(dev, str) and len(dev) == 5, f"volume found by name ({dev})")
prov.extend_volume(dev, "2")
check(float(prov.get_volume(dev)["cap_gb"]) == 2.0, "volume expanded to 2 GB")
prov.rename_volume(dev, "pyu4v_renamed")
check(prov.get_volume(dev).get("volume_identifier") == "pyu4v_renamed", "volume renamed")
prov.remove_volume_from_storage_group(sg, dev)
check(not prov.get_volume(dev).get("storageGroupId"), "volume removed from its group")
prov.delete_volume(dev)
try:
    prov.get_volume(dev)
    gone = False
except Exception:  # PyU4V raises on 404
    gone = True
check(gone, "volume deleted")
prov.delete_storage_group(sg)
check(sg not in prov.get_storage_group_list(), "storage group deleted")

# a masking round: host, masking view over an existing port group, connections
mv_sg = "pyu4v_mv_sg"
prov.create_non_empty_storage_group(srp_id="SRP_1", storage_group_id=mv_sg, service_level="Gold",
                                    workload=None, num_vols=2, vol_size="1", cap_unit="GB")
iqn = "iqn.1993-08.org.debian:01:pyu4v"
prov.create_host("pyu4v_host", initiator_list=[iqn])
check(prov.get_host("pyu4v_host")["initiator"] == [iqn], "host created with its initiator")
prov.create_masking_view_existing_components(port_group_name="OS-iscsi-PG", masking_view_name="pyu4v_mv",
                                             storage_group_name=mv_sg, host_name="pyu4v_host")
check("pyu4v_mv" in prov.get_masking_view_list(), "masking view created")
conns = prov.get_masking_view_connections("pyu4v_mv")
luns = sorted({c["host_lun_address"] for c in conns})
check(len(conns) == 4 and luns == ["0001", "0002"], f"connections: 2 volumes x 2 ports, LUNs {luns}")
prov.delete_masking_view("pyu4v_mv")
prov.delete_host("pyu4v_host")
check("pyu4v_host" not in prov.get_host_list(), "host deleted")
for dev in prov.get_volumes_from_storage_group(mv_sg):
    prov.remove_volume_from_storage_group(mv_sg, dev)
    prov.delete_volume(dev)
prov.delete_storage_group(mv_sg)
check(mv_sg not in prov.get_storage_group_list(), "masking round cleaned up")

# storage-group list filters filter (an unknown one is refused, never ignored)
prov.create_storage_group(srp_id="SRP_1", sg_id="pyu4v_empty", slo="Gold", workload=None)
prov.create_non_empty_storage_group(srp_id="SRP_1", storage_group_id="pyu4v_full", service_level="Gold",
                                    workload=None, num_vols=1, vol_size="1", cap_unit="GB")
with_vols = prov.get_storage_group_list(filters={"num_of_vols": ">0"})
check("pyu4v_full" in with_vols and "pyu4v_empty" not in with_vols, f"num_of_vols filter: {with_vols}")
named = prov.get_storage_group_list(filters={"storageGroupId": "<like>pyu4v_"})
check(sorted(named) == ["pyu4v_empty", "pyu4v_full"], f"storageGroupId <like> filter: {named}")
try:
    prov.get_storage_group_list(filters={"no_such_filter": "1"})
    refused = False
except Exception:
    refused = True
check(refused, "an unknown list filter is refused")

# the enhanced API (Unisphere 10.x): many volumes with details in one request
full_dev = prov.get_volumes_from_storage_group("pyu4v_full")[0]
vols = conn.volumes.get_volumes_details(filters=["num_of_storage_groups eq 1", "cap_gb ge 1"],
                                        select=["identifier", "cap_gb", "storage_groups.id", "wwn"])
ids = [v["id"] for v in vols["volumes"]]
check(ids == [full_dev], f"volumes.get_volumes_details with filters: {ids}")
v0 = vols["volumes"][0]
check(v0["cap_gb"] == 1.0 and v0["storage_groups"] == [{"id": "pyu4v_full"}] and len(v0["wwn"]) == 32,
      f"selected volume attributes: {v0}")
every = conn.volumes.get_volumes_details()
check(len(every["volumes"]) == 1 and "masking_views" in every["volumes"][0],
      "volumes.get_volumes_details with PyU4V's default selection")
sgs = conn.storage_groups.get_storage_groups_details(filters=["num_of_volumes eq 0"], select=["num_of_volumes", "service_level.id"])
check([g["id"] for g in sgs["storage_groups"]] == ["pyu4v_empty"]
      and sgs["storage_groups"][0]["service_level"] == {"id": "Gold"},
      f"storage_groups.get_storage_groups_details: {sgs}")
prov.delete_storage_group("pyu4v_empty")
prov.remove_volume_from_storage_group("pyu4v_full", full_dev)
prov.delete_volume(full_dev)
prov.delete_storage_group("pyu4v_full")

# port groups: the array's ports, create, delete (refused while in a view)
ports = prov.get_port_list()
check(len(ports) == 3 and {"directorId": "SE-1E", "portId": "0"} in ports, f"front-end ports: {ports}")
pg = prov.create_new_port_group("pyu4v_pg", [{"directorId": "SE-3E", "portId": "0"}])
check("pyu4v_pg" in prov.get_port_group_list(), "port group created")
check(prov.get_ports_from_port_group("pyu4v_pg") == ["0"], "port group holds its port")
prov.delete_port_group("pyu4v_pg")
check("pyu4v_pg" not in prov.get_port_group_list(), "port group deleted")

health = conn.system.get_system_health()
check(any(m["metric"] == "OVERALL" for m in health["health_score_metric"]), "system health")
conn.close_session()
print("pyu4v: provisioning round passed")
