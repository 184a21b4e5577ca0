#!/bin/sh
#
# tests/inventory_vars.sh SRCDIR -- fail if pemrotate reads an inventory
# variable ("ansible_*", "pem_*" in orchestrator/ or invresolve.c) that
# "pemrotate inventory" does not show (used_vars in cmd_inventory.c).
set -eu

cd "${1:?usage: tests/inventory_vars.sh SRCDIR}"
bad=0
for v in $(grep -ho '"\(ansible\|pem\)_[a-z_]*"' orchestrator/*.c \
    inventory/invresolve.c | sort -u); do
	# groups, a prefix, and what orders groups (not a host's variable)
	case $v in '"pem_server"' | '"pem_agents"' | '"pem_"' | \
	    '"ansible_group_priority"') continue ;; esac
	if ! sed -n '/^static const char \*const used_vars/,/^};/p' \
	    orchestrator/cmd_inventory.c | grep -q "$v"; then
		echo "$v is read but not in cmd_inventory.c's used_vars" >&2
		bad=1
	fi
done
exit $bad
