# The inventories an Ansible shop already has: INI, YAML with host_vars/
# and group_vars/, directories, several -i, a dynamic inventory script,
# "ansible-inventory --list" output.  For each, "pemrotate inventory
# --list" must find the PEM hosts and every variable pemrotate uses as
# ansible-inventory does; then whole rotations of the estate driven by a
# dynamic inventory, by ansible-inventory's output (on stdin and as a
# .json file) and by a YAML directory; a resume after SIGKILL of a run
# over two sources; and the failures (a dynamic inventory's exit 1, a
# hang, bad JSON, a YAML syntax error, a Vault file), which stop the run
# before any change.

I=$here/tests/integration/inventories
used=$(sed -n '/^static const char \*const used_vars/,/^};/p' \
    "$here/orchestrator/cmd_inventory.c" | grep -o '"[a-z_]*"' |
    tr -d '"' | paste -sd,)
have_ansible=
if command -v ansible-inventory >/dev/null; then
	have_ansible=1
	export ANSIBLE_INVENTORY_UNPARSED_FAILED=1 ANSIBLE_NOCOLOR=1
	export ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_HOME=$work/ansible
else
	echo "  SKIP: ansible-inventory is not installed (Debian package" \
	    "ansible-core, scripts/setup.sh installs it): no comparison" \
	    "with Ansible, no rotation from its --list output" >&2
fi

# same_as_ansible NAME ANSIBLE_SOURCE PEMROTATE_SOURCE [STDIN_FILE]
same_as_ansible() {
	local a=$work/$1.ansible.json p=$work/$1.pemrotate.json out
	ansible-inventory -i "$2" --list >"$a" 2>"$a.err" ||
	    cat "$a.err" >&2
	"$PEMROTATE" inventory -i "$3" --list <"${4:-/dev/null}" >"$p" \
	    2>"$p.err" || cat "$p.err" >&2
	out=$(python3 "$I/invcmp.py" "$a" "$p" "$used" 2>&1) ||
	    printf '    %s\n' "$out" >&2
	eq "$1: the PEM hosts and their variables are Ansible's" "" "$out"
}

# same_sources NAME SOURCE...: both read the same -i list.
same_sources() {
	local name=$1 a=$work/$1.ansible.json p=$work/$1.pemrotate.json out
	local -a args=()

	shift
	for out in "$@"; do
		args+=(-i "$out")
	done
	ansible-inventory "${args[@]}" --list >"$a" 2>"$a.err" ||
	    cat "$a.err" >&2
	"$PEMROTATE" inventory "${args[@]}" --list >"$p" 2>"$p.err" ||
	    cat "$p.err" >&2
	out=$(python3 "$I/invcmp.py" "$a" "$p" "$used" 2>&1) ||
	    printf '    %s\n' "$out" >&2
	eq "$name: the PEM hosts and their variables are Ansible's" "" "$out"
}

begin "pemrotate inventory reads an inventory as ansible-inventory does"
if [ -n "$have_ansible" ]; then
	same_as_ansible ini "$I/complex.ini" "$I/complex.ini"
	same_as_ansible script "$I/dynamic.py" "$I/dynamic.py"
	same_as_ansible script-host "$I/dynamic-nometa.py" \
	    "$I/dynamic-nometa.py"
	ansible-inventory -i "$I/complex.ini" --list >"$work/list.json"
	ansible-inventory -i "$I/complex.ini" --list --export \
	    >"$work/export.json"
	same_as_ansible list-file "$I/complex.ini" "$work/list.json"
	same_as_ansible export-file "$I/complex.ini" "$work/export.json"
	same_as_ansible list-stdin "$I/complex.ini" - "$work/list.json"
	ansible-inventory -i "$I/dynamic.py" --list >"$work/dlist.json"
	same_as_ansible script-list-file "$I/dynamic.py" "$work/dlist.json"
fi

begin "YAML, host_vars/group_vars, directories, several -i: as Ansible"
if [ -n "$have_ansible" ]; then
	same_sources yaml "$I/yaml/hosts.yml"
	same_sources yaml-dir "$I/yaml"
	same_sources yaml-dir-script "$I/mixdir"
	same_sources three-sources "$I/yaml/hosts.yml" \
	    "$I/yaml-more/more.yml" "$I/more.ini"
	same_sources dir-and-ini "$I/yaml" "$I/more.ini"
	ansible-inventory -i "$I/yaml" --list >"$work/ylist.json"
	same_as_ansible yaml-list-file "$I/yaml" "$work/ylist.json"
fi
# what the comparison stands on, without Ansible too
"$PEMROTATE" inventory -i "$I/yaml/hosts.yml" -i "$I/yaml-more/more.yml" \
    -i "$I/more.ini" --list >"$work/three.json"
ok "three sources: hosts, priority, null, later group_vars" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = d["_meta"]["hostvars"]
assert d["pem_server"]["hosts"] == ["pemsrv.example.com"], d
assert set(d["pem_agents"]["hosts"]) == {"pemsrv.example.com",
    "agent01.example.com", "agent02.example.com", "agent03.example.com",
    "agent04.example.com", "east-a", "east-b", "east-c", "west1", "west2",
    "west6", "west10", "west3", "west99"}, d["pem_agents"]
# dc_east (priority 10) beats dc_west (5, a later name)
assert v["east-b"]["pem_agent_start_cmd"] == "systemctl start pemagent"
assert v["west3"]["pem_agent_start_cmd"] == "/opt/west/start-from-ini"
# host_vars null hides datacenters and all
assert "ansible_user" not in v["agent02.example.com"], v
assert v["agent02.example.com"]["pem_agent_id"] == "7"
assert v["west1"]["ansible_port"] == "2201"    # host_vars over the host
assert v["pemsrv.example.com"]["ansible_user"] == "later-source"
assert v["east-a"]["pem_agent_stop_cmd"] == "/usr/local/bin/stop-agent"
assert v["west2"]["pem_sftp_server"] == "/from/the/later/source"
assert v["east-a"]["pem_agent_ssl_key"] == "/root/.pem/agent.key"
' "$work/three.json"
"$PEMROTATE" inventory -i "$I/mixdir" --list >"$work/mix.json"
ok "a directory: its YAML and its script, *.ini skipped" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = d["_meta"]["hostvars"]
assert d["pem_server"]["hosts"] == ["srv"], d
assert sorted(d["pem_agents"]["hosts"]) == ["a1", "a2", "srv"], d
assert v["a2"] == {"ansible_port": "2222", "ansible_user": "cmdb",
                   "pem_agent_id": "2", "pem_agent_cfg": "/mix/agent.cfg"}, v
' "$work/mix.json"
"$PEMROTATE" inventory -i "$I/dynamic.py" --host a3 >"$work/a3.json"
ok "--host a3: null unsets a group's value" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert v == {"ansible_port": "22", "ansible_become": "yes",
             "pem_agent_id": "3", "pem_agent_cfg": "/etc/a.cfg"}, v
' "$work/a3.json"
set +e
out=$("$PEMROTATE" inventory -i "$I/dynamic.py" --host nosuch 2>&1)
rc=$?
set -e
eq "--host of no PEM host: exit" 2 "$rc"
ok "--host of no PEM host: says so" grep -q "no host nosuch in pem_server" \
    <<<"$out"
set +e
"$PEMROTATE" rotate -i "$I/dynamic.py" --list >/dev/null 2>&1
rc=$?
set -e
eq "--list is for the inventory command" 2 "$rc"

E=$work/inv
estates+=("$E")
estate_up "$E" 4

begin "a rotation driven by a dynamic inventory script (--list, --host)"
printf '#!/bin/sh\nexec python3 %q %q "$@"\n' "$I/estate-dynamic.py" \
    "$ESTATE_INVENTORY" >"$work/estate-dyn"
chmod 755 "$work/estate-dyn"
orig=$(agent_crts)
INV=$work/estate-dyn run_pemrotate -y
eq "exit status" 0 "$rc"
finished "$orig"

if [ -n "$have_ansible" ]; then
	begin "a rotation from ansible-inventory --list on stdin (-i -)"
	ansible-inventory -i "$ESTATE_INVENTORY" --list >"$work/estate.json"
	orig=$(agent_crts)
	INV=- run_pemrotate -y <"$work/estate.json"
	eq "exit status" 0 "$rc"
	finished "$orig"

	begin "a rotation from ansible-inventory --list --export, a .json file"
	ansible-inventory -i "$ESTATE_INVENTORY" --list --export \
	    >"$work/estate-export.json"
	orig=$(agent_crts)
	INV=$work/estate-export.json run_pemrotate -y
	eq "exit status" 0 "$rc"
	finished "$orig"
fi

begin "a rotation driven by a YAML inventory with host_vars and group_vars"
# estate.yml: pem_server and pem_agents (the agents as a range);
# host_vars/HOST.yml: each host's address, agent.cfg and commands;
# group_vars/all.yml: the login; group_vars/pem_server/: the restart.
python3 "$I/estate-yaml.py" "$ESTATE_INVENTORY" "$work/yest"
ok "the agents are a range" grep -qx "        agent\[2:$ESTATE_N\]:" \
    "$work/yest/estate.yml"
ok "host_vars hold the commands" grep -q '^pem_agent_start_cmd: ' \
    "$work/yest/host_vars/agent2.yml"
not "estate.yml holds no variable" grep -Eq '^ +[a-z_]+: *[^ ]' \
    "$work/yest/estate.yml"
orig=$(agent_crts)
INV=$work/yest run_pemrotate -y
eq "exit status" 0 "$rc"
finished "$orig"

begin "SIGKILL with -i DIR -i extra.yml: resume reads both sources again"
# The login and the (slow) agent commands only in extra.yml; the hosts,
# addresses and agent.cfg paths only in the directory.
python3 "$I/estate-yaml.py" "$ESTATE_INVENTORY" "$work/ykill" \
    --extra "$work/extra.yml" --cmd-prefix 'sleep 1; '
not "the directory has no login" grep -q ansible_user -r "$work/ykill"
orig=$(agent_crts)
INV=$work/ykill bg_rotate -y -j 2 -i "$work/extra.yml"
ok "two agents pushed within 60 s" bg_wait_journal '^pushed	' 2
bg_kill KILL || true
bg_wait
eq "killed" 137 "$rc"
ok "the lock is kept" test -e "$E/pg/data/pemrotate.lock"
# a start the kill cut off still runs on its host (sshd lets it finish,
# as on a real estate; resume starts that agent again): let it end, so it
# does not finish after the resume's start and have the last word
sleep 2
# what resume starts must come from extra.yml as it is now
mkdir -m 1777 "$work/marks"
not_pushed=$(for id in $(seq 1 "$ESTATE_N"); do
	jhas pushed "$(agent_name "$id")" || agent_name "$id"
done)
python3 "$I/estate-yaml.py" "$ESTATE_INVENTORY" "$work/ykill" \
    --extra "$work/extra.yml" --cmd-prefix "echo resumed >>$work/marks/{host}; "
run_resume -y
eq "exit status" 0 "$rc"
eq "journal result" ok "$(jlast result)"
ok "some agent was still to push" test -n "$not_pushed"
for h in $not_pushed; do
	ok "$h: started with extra.yml's new command" \
	    grep -qx resumed "$work/marks/$h"
done
finished "$orig"

begin "a YAML syntax error: file and line, nothing changed"
before=$(snapshot)
cp -R "$work/yest" "$work/ybad"
printf 'pem_agents:\n  hosts:\n    agent2: {ansible_port: 22\n' \
    >"$work/ybad/zz-broken.yml"
INV=$work/ybad run_pemrotate -y
eq "exit status" 2 "$rc"
ok "message names file and line" grep -qF \
    "$work/ybad/zz-broken.yml:4: YAML: " "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "a Vault-encrypted group_vars file: named, nothing changed"
rm "$work/ybad/zz-broken.yml"
printf '$ANSIBLE_VAULT;1.1;AES256\n6136613061\n' \
    >"$work/ybad/group_vars/pem_agents.yml"
INV=$work/ybad run_pemrotate -y
eq "exit status" 2 "$rc"
ok "message names the file" grep -qF "$work/ybad/group_vars/pem_agents.yml" \
    "$E.out"
ok "and says it is Vault" grep -qi "vault" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "a dynamic inventory that fails: its stderr shown, nothing changed"
before=$(snapshot)
printf '#!/bin/sh\necho "CMDB unreachable: connection refused" >&2\n'`
    `'exit 1\n' >"$work/inv-fail"
chmod 755 "$work/inv-fail"
INV=$work/inv-fail run_pemrotate -y
eq "exit status" 2 "$rc"
ok "message names the script and shows its stderr" grep -qF \
    "$work/inv-fail --list: exited with status 1 (stderr: CMDB unreachable: connection refused)" \
    "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "a dynamic inventory that hangs is killed after the timeout"
printf '#!/bin/sh\necho $$ >%q\necho "asking the CMDB" >&2\nsleep 297\n' \
    "$work/hang.pid" >"$work/inv-hang"
chmod 755 "$work/inv-hang"
t0=$(date +%s)
PEMROTATE_INVENTORY_TIMEOUT=2 INV=$work/inv-hang run_pemrotate -y
eq "exit status" 2 "$rc"
ok "within the timeout" test $(($(date +%s) - t0)) -lt 10
ok "message says so" grep -qF "$work/inv-hang --list: no answer within 2 s; killed (stderr: asking the CMDB)" "$E.out"
not "the script is gone" kill -0 "$(cat "$work/hang.pid")"
not "and its child too" pgrep -f "sleep 297"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "bad JSON: file and line, nothing changed"
printf '{\n  "pem_server": ["pemserver"],\n  "pem_agents": ["a1",]\n}\n' \
    >"$work/bad.json"
INV=$work/bad.json run_pemrotate -y
eq "exit status" 2 "$rc"
ok "message names file and line" grep -qF \
    "$work/bad.json:3: bad JSON: unexpected token near ']'" "$E.out"
printf '#!/bin/sh\necho "{\\"pem_server\\": [1]}"\necho oops >&2\n' \
    >"$work/inv-badtype"
chmod 755 "$work/inv-badtype"
INV=$work/inv-badtype run_pemrotate -y
eq "a script's wrong JSON: exit status" 2 "$rc"
ok "message names the JSON path and the script's stderr" grep -qF \
    "$work/inv-badtype: .pem_server[0]: expected a host name (a string), got a number (stderr of $work/inv-badtype --list: oops)" \
    "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running
