#!/usr/bin/env python3
"""A dynamic inventory for t_90_inventories.sh: Ansible's script protocol,
with children, typed values and null; without _meta (--host per host) when
called as dynamic-nometa.py."""
import json
import os
import sys

GROUPS = {
    "pem_server": {"hosts": ["srv"],
                   "vars": {"pem_data_dir": "/pg/data",
                            "ansible_become": True}},
    "pem_agents": {"hosts": ["a1"], "children": ["linux"],
                   "vars": {"ansible_port": 22,
                            "pem_agent_cfg": "/etc/a.cfg"}},
    "linux": {"children": ["rhel"], "hosts": ["a2"],
              "vars": {"ansible_user": "linux"}},
    "rhel": ["a3", "a4"],
    "all": {"vars": {"ansible_user": "pemrt", "ansible_become": False}},
}
HOSTVARS = {
    "srv": {"ansible_host": "10.0.0.1", "ansible_port": 2222},
    "a3": {"pem_agent_id": 3, "ansible_become": "yes",
           "ansible_user": None},
    "a4": {"pem_agent_id": 4, "pem_agent_start_cmd": "start 'a4'"},
}

meta = not os.path.basename(sys.argv[0]).startswith("dynamic-nometa")
if sys.argv[1:] == ["--list"]:
    out = dict(GROUPS)
    if meta:
        out["_meta"] = {"hostvars": HOSTVARS}
    print(json.dumps(out))
elif len(sys.argv) == 3 and sys.argv[1] == "--host":
    print(json.dumps(HOSTVARS.get(sys.argv[2], {})))
else:
    sys.exit("usage: %s --list | --host NAME" % sys.argv[0])
