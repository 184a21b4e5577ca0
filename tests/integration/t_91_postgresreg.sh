# Agents of older PEM installs: no agent.cfg, their settings in section
# [PEMAGENT] of /etc/postgres-reg.ini.  agent2's pem_agent_cfg names such a
# file under its host directory; agent3 keeps pem_agent_cfg pointing at its
# agent.cfg, which is gone, so pemrotate falls back to the machine's real
# /etc/postgres-reg.ini (written here when there is none, removed at the
# end; the stand-in agent reads an identical copy under its host
# directory, as it reads agent.cfg there).  Both must rotate, start on the
# new files named in the ini, and log in with them; the report says where
# each agent's settings came from.

E=$work/reg
estates+=("$E")
estate_up "$E" 4
D=$E/pg/data
t91_h2=$(agent_dir 2)
t91_h3=$(agent_dir 3)
t91_etc=""	# set when this test wrote /etc/postgres-reg.ini

# t91_ini ID: a postgres-reg.ini for agent ID, other products around it.
# PEMHost and PEMPort are the stand-in agent's (pemrotate ignores them).
t91_ini() {
	local h
	h=$(agent_dir "$1")
	cat <<EOF
[PostgreSQL/15]
Branding=PostgreSQL 15
DataDirectory=/opt/PostgreSQL/15/data
Port=5432

[PEMAGENT]
AgentID=$1
AgentKeyPath=$h/root/.pem/agent$1.key
AgentCrtPath=$h/root/.pem/agent$1.crt
InstallationDirectory=/opt/PEM/agent
PEMHost=$ESTATE_SERVER_ADDR
PEMPort=5432

[pgAgent]
Version=4.2
EOF
}

t91_cleanup() {
	if [ -n "$t91_etc" ]; then
		rm -f /etc/postgres-reg.ini
		t91_etc=""
	fi
}
trap 't91_cleanup; cleanup' EXIT

# agent2: pem_agent_cfg names its postgres-reg.ini
t91_ini 2 >"$t91_h2/etc/postgres-reg.ini"
chmod 0644 "$t91_h2/etc/postgres-reg.ini"
rm -f "$t91_h2/etc/agent.cfg"
sed "s|pem_agent_cfg=$t91_h2/etc/agent.cfg |pem_agent_cfg=$t91_h2/etc/postgres-reg.ini |" \
    "$ESTATE_INVENTORY" >"$work/reg.ini"
# agent3: agent.cfg gone, pem_agent_cfg unchanged
t91_ini 3 >"$t91_h3/etc/postgres-reg.ini"
chmod 0644 "$t91_h3/etc/postgres-reg.ini"
rm -f "$t91_h3/etc/agent.cfg"

begin "postgres-reg.ini agents: the stand-in reads the ini"
ok "inventory: agent2 names its ini" grep -qF \
    "pem_agent_cfg=$t91_h2/etc/postgres-reg.ini " "$work/reg.ini"
ok "agent2 logs in from its ini" bash "$ESTATE" check-agent "$E" 2
ok "agent3 logs in from its ini" bash "$ESTATE" check-agent "$E" 3
before=$(snapshot)

if [ -e /etc/postgres-reg.ini ]; then
	echo "  /etc/postgres-reg.ini exists on this machine: the fallback" \
	    "to it is not tested" >&2
	failed=$((failed + 1))
	failures+=("postgres-reg.ini: /etc/postgres-reg.ini already exists")
else
	begin "no agent.cfg and no /etc/postgres-reg.ini: refused, nothing changed"
	INV=$work/reg.ini run_pemrotate -y
	eq "exit status" 2 "$rc"
	ok "names both files" grep -qF "agent3 (127.0.20.4): preflight: $t91_h3/etc/agent.cfg: no such file, nor /etc/postgres-reg.ini (an older agent's)" "$E.out"
	eq "files unchanged" "$before" "$(snapshot)"

	t91_ini 3 >/etc/postgres-reg.ini
	t91_etc=1
	chmod 0664 /etc/postgres-reg.ini
	begin "/etc/postgres-reg.ini writable by its group is not trusted"
	INV=$work/reg.ini run_pemrotate -y
	eq "exit status" 2 "$rc"
	ok "names the file and its mode" grep -qF \
	    "/etc/postgres-reg.ini: not trusted to name the files root replaces: writable by its group (mode 0664)" \
	    "$E.out"
	eq "files unchanged" "$before" "$(snapshot)"
	chmod 0644 /etc/postgres-reg.ini
fi

begin "a bad postgres-reg.ini: named with its line, nothing changed"
cp -p "$t91_h2/etc/postgres-reg.ini" "$work/t91-good.ini"
sed -i 's|^AgentKeyPath=.*|AgentKeyPath=root/.pem/agent2.key|' \
    "$t91_h2/etc/postgres-reg.ini"
INV=$work/reg.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "file:line: relative path" grep -qF \
    "$t91_h2/etc/postgres-reg.ini:8: AgentKeyPath \"root/.pem/agent2.key\" is not an absolute path" \
    "$E.out"
sed -i 's|^\[PEMAGENT\]|[PEMAGENT-OLD]|' "$t91_h2/etc/postgres-reg.ini"
INV=$work/reg.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "no [PEMAGENT] section" grep -qF \
    "$t91_h2/etc/postgres-reg.ini:15: no [PEM/agent] section (nor a [PEMAGENT] one)" \
    "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
cp -p "$work/t91-good.ini" "$t91_h2/etc/postgres-reg.ini"

begin "rotate with postgres-reg.ini agents"
orig=$(agent_crts)
declare -A t91_old
for id in 2 3; do
	t91_old[k$id]=$(sha "$(agent_file "$id" key)")
	t91_old[ini$id]=$(sha "$(agent_dir "$id")/etc/postgres-reg.ini")
done
INV=$work/reg.ini run_pemrotate -y -j 2 --report "$work/reg.json"
eq "exit status" 0 "$rc"
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/reg.json")
finished "$orig"

begin "the ini's paths got the new files, the agents log in with them"
for id in 2 3; do
	k=$(agent_file "$id" key)
	c=$(agent_file "$id" crt)
	not "agent$id key replaced" test "${t91_old[k$id]}" = "$(sha "$k")"
	eq "agent$id key backup" "${t91_old[k$id]}" "$(sha "$(bak "$k" "$run_id")")"
	eq "agent$id key mode" 600 "$(stat -c %a "$k")"
	ok "agent$id CN" sh -c "openssl x509 -in '$c' -noout -subject |
	    grep -q 'CN *= *agent$id\$'"
	ok "agent$id key matches" test "$(openssl pkey -in "$k" -pubout)" = \
	    "$(openssl x509 -in "$c" -noout -pubkey)"
	ok "agent$id logs in with the new certificate" bash "$ESTATE" \
	    check-agent "$E" "$id"
	eq "agent$id ini unchanged" "${t91_old[ini$id]}" \
	    "$(sha "$(agent_dir "$id")/etc/postgres-reg.ini")"
	not "agent$id: no agent.cfg made" test -e "$(agent_dir "$id")/etc/agent.cfg"
done
if [ -n "$t91_etc" ]; then
	ok "/etc copy = agent3's" cmp -s /etc/postgres-reg.ini \
	    "$t91_h3/etc/postgres-reg.ini"
	ok "fallback logged" grep -qF \
	    "agent3 (127.0.20.4): no $t91_h3/etc/agent.cfg: the agent's settings are read from /etc/postgres-reg.ini" \
	    "$E.out"
fi

begin "the report says where each agent's settings came from"
ok "JSON settings" python3 - "$work/reg.json" "$t91_h2" "$t91_h3" \
    "$(agent_dir 4)" "$t91_etc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h2, h3, h4, etc = sys.argv[2:6]
by = {h["agent_id"]: h for h in r["hosts"]}
assert by[2]["settings"] == "postgres-reg.ini", by[2]
assert by[2]["settings_file"] == h2 + "/etc/postgres-reg.ini", by[2]
assert by[4]["settings"] == "agent.cfg", by[4]
assert by[4]["settings_file"] == h4 + "/etc/agent.cfg", by[4]
assert by[1]["settings"] == "agent.cfg", by[1]
if etc:
    assert by[3]["settings"] == "postgres-reg.ini", by[3]
    assert by[3]["settings_file"] == "/etc/postgres-reg.ini", by[3]
PY
ok "table: agent2 from postgres-reg.ini" grep -Eq \
    "^agent2 \(127\.0\.20\.3\) +agent +2 +ok +[0-9.]+ +postgres-reg\.ini" \
    "$E.out"
ok "table: agent4 from agent.cfg" grep -Eq \
    "^agent4 \(127\.0\.20\.5\) +agent +4 +ok +[0-9.]+ +agent\.cfg" "$E.out"

begin "a second rotation reads them again"
orig=$(agent_crts)
INV=$work/reg.ini run_pemrotate -y
eq "exit status" 0 "$rc"
finished "$orig"

t91_cleanup
trap cleanup EXIT
