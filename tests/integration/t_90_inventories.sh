# The inventories an Ansible shop already has: INI, a dynamic inventory
# script, "ansible-inventory --list" output.  For each, "pemrotate
# inventory --list" must find the PEM hosts and every variable pemrotate
# uses as ansible-inventory does; then whole rotations of the estate
# driven by a dynamic inventory and by ansible-inventory's output (on
# stdin and as a .json file); and the failures of a dynamic inventory
# (exit 1, a hang, bad JSON), which stop the run before any change.

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
