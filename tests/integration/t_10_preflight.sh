# Preflight: a dry run, a missing agent, a changed and an unknown host key.
# Each must stop before any change (exit 2) and leave every file as it was.

E=$work/a
estates+=("$E")
estate_up "$E" 12
before=$(snapshot)

begin "dry run changes nothing"
run_pemrotate --dry-run
eq "exit status" 0 "$rc"
ok "plan shown" grep -q "pemrotate will rotate" "$E.out"
ok "restart command in plan" grep -q "pg_ctl" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "agent missing from the inventory"
grep -v '^agent5 ' "$ESTATE_INVENTORY" >"$work/missing.ini"
INV=$work/missing.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names the agent" grep -q "have no host in $work/missing.ini: 5" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "agents untouched" grep -q running "$(agent_dir 5)/agent.state"

begin "inventory syntax error"
printf '[pem_server]\npem ansible_host="127.0.10.1\n' >"$work/bad.ini"
INV=$work/bad.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names file and line" grep -q "$work/bad.ini:2:" "$E.out"

begin "changed host key"
addr=127.0.20.8	# agent7
cp "$ESTATE_KNOWN_HOSTS" "$work/kh-changed"
ssh-keygen -q -R "$addr" -f "$work/kh-changed" >/dev/null 2>&1
rm -f "$work/kh-changed.old"
ssh-keygen -q -t ed25519 -N '' -f "$work/otherkey" >/dev/null
echo "$addr $(cut -d' ' -f1,2 "$work/otherkey.pub")" >>"$work/kh-changed"
KH=$work/kh-changed run_pemrotate -y
eq "exit status" 2 "$rc"
ok "says the key changed" grep -q "agent7.*HOST KEY CHANGED" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" grep -q running "$(agent_dir 1)/agent.state"

begin "unknown host key"
cp "$ESTATE_KNOWN_HOSTS" "$work/kh-unknown"
ssh-keygen -q -R 127.0.20.4 -f "$work/kh-unknown" >/dev/null 2>&1
KH=$work/kh-unknown run_pemrotate -y
eq "exit status" 2 "$rc"
ok "says the key is unknown" grep -q "agent3.*host key unknown" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
