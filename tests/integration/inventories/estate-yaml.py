#!/usr/bin/env python3
"""estate-yaml.py INI DIR [--extra FILE] [--cmd-prefix TEXT]: the test
estate's inventory.ini (tests/estate/estate.sh) as a YAML inventory
directory, for t_90_inventories.sh:

  DIR/estate.yml          pem_server and pem_agents, agents as a range
  DIR/group_vars/all.yml  [all:vars] (the login)
  DIR/group_vars/pem_server/restart.yml   [pem_server:vars]
  DIR/host_vars/HOST.yml  each host's own variables

With --extra, the login and each agent's stop and start commands go to
FILE instead (a second source: -i DIR -i FILE), the commands prefixed
with TEXT ("{host}" in it replaced by the host's name).  Values are
written as JSON strings, which YAML reads as they are."""
import json
import os
import re
import shlex
import sys


def parse(path):
    """The INI as estate.sh writes it: hosts with key=value words,
    [NAME:vars] with key=value lines."""
    groups, hostvars, groupvars, sec = {}, {}, {}, None
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[([^]:]+)(:vars)?\]", line)
        if m:
            sec = (m.group(1), bool(m.group(2)))
            continue
        if sec[1]:
            k, v = line.split("=", 1)
            if v[:1] in "'\"":
                v = shlex.split(v)[0]
            groupvars.setdefault(sec[0], {})[k] = v
            continue
        words = shlex.split(line)
        groups.setdefault(sec[0], []).append(words[0])
        hv = hostvars.setdefault(words[0], {})
        for w in words[1:]:
            k, v = w.split("=", 1)
            hv[k] = v
    return groups, hostvars, groupvars


def hosts_yaml(names):
    """A hosts: mapping, agentN names in a run as one range."""
    nums = sorted(int(n[5:]) for n in names if re.fullmatch(r"agent\d+", n))
    out = [n for n in names if not re.fullmatch(r"agent\d+", n)]
    if len(nums) >= 2 and nums == list(range(nums[0], nums[-1] + 1)):
        out.append("agent[%d:%d]" % (nums[0], nums[-1]))
    else:
        out += ["agent%d" % n for n in nums]
    return "".join("        %s:\n" % n for n in out)


def mapping(d, indent=""):
    return "".join("%s%s: %s\n" % (indent, k, json.dumps(v))
                   for k, v in d.items())


def main():
    ini, out = sys.argv[1], sys.argv[2]
    opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
    extra, prefix = opts.get("--extra"), opts.get("--cmd-prefix", "")
    groups, hostvars, groupvars = parse(ini)
    for d in ("group_vars/pem_server", "host_vars"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    with open(os.path.join(out, "estate.yml"), "w") as f:
        f.write("# the test estate (estate-yaml.py from %s)\nall:\n"
                "  children:\n" % os.path.basename(ini))
        for g in ("pem_server", "pem_agents"):
            f.write("    %s:\n      hosts:\n%s" % (g, hosts_yaml(groups[g])))
    login = groupvars.get("all", {})
    moved = {}
    for h, hv in hostvars.items():
        mine = dict(hv)
        if extra:
            moved[h] = {k: prefix.replace("{host}", h) + mine.pop(k)
                        for k in ("pem_agent_stop_cmd",
                                  "pem_agent_start_cmd") if k in mine}
        with open(os.path.join(out, "host_vars", h + ".yml"), "w") as f:
            f.write(mapping(mine))
    with open(os.path.join(out, "group_vars/pem_server/restart.yml"),
              "w") as f:
        f.write(mapping(groupvars.get("pem_server", {})))
    with open(os.path.join(out, "group_vars/all.yml"), "w") as f:
        f.write("" if extra else mapping(login))
    if extra:
        with open(extra, "w") as f:
            f.write("all:\n  vars:\n%s  children:\n    pem_agents:\n"
                    "      hosts:\n" % mapping(login, "    "))
            for h, v in moved.items():
                if v:
                    f.write("        %s:\n%s" % (h, mapping(v, "          ")))


main()
