#!/bin/sh
# inv_script.sh: a dynamic inventory for test_inventory_json.c, run for
# real.  INV_MODE chooses what it does with --list (see the test).
case "$1 ${INV_MODE:-meta}" in
"--list meta")
	cat <<'J'
{"pem_server": {"hosts": ["srv"], "vars": {"pem_data_dir": "/pg"}},
 "pem_agents": ["a1", "a2"],
 "_meta": {"hostvars": {"srv": {"ansible_host": "10.0.0.1"},
                        "a1": {"ansible_port": 2201}}}}
J
	echo "a warning on stderr" >&2 ;;
"--list nometa")
	echo '{"pem_server": ["srv"], "pem_agents": ["a1", "a2"]}' ;;
"--host nometa")
	case $2 in
	srv) echo '{"ansible_host": "10.0.0.1"}' ;;
	a1) echo '{"ansible_port": 2201, "pem_agent_id": 4}' ;;
	a2) echo '' ;;
	esac ;;
"--list hostfail")
	echo '{"pem_server": ["srv"], "pem_agents": ["a1"]}' ;;
"--host hostfail")
	echo "no such host $2" >&2
	exit 3 ;;
"--list fail")
	echo "cannot reach the CMDB: connection refused" >&2
	exit 1 ;;
"--list hang")
	echo "thinking..." >&2
	sleep 30 ;;
"--list badjson")
	printf '{"pem_server": ["srv"],\n "pem_agents": ["a1",]}\n'
	echo "partial output" >&2 ;;
*)
	echo "usage: $0 --list | --host NAME" >&2
	exit 2 ;;
esac
