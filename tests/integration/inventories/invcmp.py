#!/usr/bin/env python3
"""invcmp.py ANSIBLE.json PEMROTATE.json VAR,VAR,...: the PEM hosts and the
variables pemrotate uses agree between "ansible-inventory --list" and
"pemrotate inventory --list" (t_90_inventories.sh).  Ansible's booleans and
numbers are compared as booleans and numbers; null is unset."""
import json
import sys

a = json.load(open(sys.argv[1]))
p = json.load(open(sys.argv[2]))
used = sys.argv[3].split(",")
bad = []


def members(inv, group, seen=None):
    """Hosts of group, directly or through children."""
    seen = seen if seen is not None else set()
    if group in seen or group not in inv:
        return set()
    seen.add(group)
    g = inv[group]
    hosts = set(g.get("hosts", []))
    for c in g.get("children", []):
        hosts |= members(inv, c, seen)
    return hosts


def same(av, pv, name):
    if av is None:
        return pv is None
    if pv is None:
        return False
    if name == "ansible_become_password":
        return True
    if isinstance(av, bool):
        return (pv.lower() in ("true", "yes", "on", "1")) == av and \
            pv.lower() in ("true", "yes", "on", "1", "false", "no", "off",
                           "0")
    if isinstance(av, (int, float)):
        try:
            return float(pv) == av
        except ValueError:
            return False
    if isinstance(av, (list, dict)):
        return json.loads(pv) == av
    return pv == av


for g in ("pem_server", "pem_agents"):
    am, pm = members(a, g), set(p[g]["hosts"])
    if am != pm:
        bad.append("%s: ansible %s, pemrotate %s" % (g, sorted(am),
                                                     sorted(pm)))
order = [h["name"] for h in p["_meta"]["pemrotate"]["hosts"]]
if not order or order[0] not in members(a, "pem_server"):
    bad.append("pemrotate's first host %s is not the server" % order[:1])
for h in sorted(members(a, "pem_server") | members(a, "pem_agents")):
    av = a["_meta"]["hostvars"].get(h, {})
    pv = p["_meta"]["hostvars"].get(h, {})
    for v in used:
        if not same(av.get(v), pv.get(v), v):
            bad.append("%s %s: ansible %r, pemrotate %r" % (h, v, av.get(v),
                                                          pv.get(v)))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
