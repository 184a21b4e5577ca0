#!/usr/bin/env python3
"""estate-dynamic.py INI --list | --host NAME: the test estate's INI
inventory (tests/estate/estate.sh writes it) as a dynamic inventory, in
Ansible's script protocol without _meta, so each host's variables come
from --host (t_90_inventories.sh).  Reads only the estate's simple INI:
sections, host lines and [group:vars] lines, quoted as a shell would."""
import json
import shlex
import sys

groups, hostvars, sec, kind = {}, {}, None, None
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        sec, _, kind = line[1:-1].partition(":")
        groups.setdefault(sec, {"hosts": [], "vars": {}})
        continue
    if kind == "vars":
        k, _, v = line.partition("=")
        groups[sec]["vars"][k.strip()] = " ".join(shlex.split(v))
        continue
    words = shlex.split(line)
    groups[sec]["hosts"].append(words[0])
    hostvars.setdefault(words[0], {}).update(
        w.split("=", 1) for w in words[1:])

if sys.argv[2:] == ["--list"]:
    print(json.dumps(groups, indent=2))
elif len(sys.argv) == 4 and sys.argv[2] == "--host":
    print(json.dumps(hostvars.get(sys.argv[3], {})))
else:
    sys.exit("usage: %s INI --list | --host NAME" % sys.argv[0])
