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

begin "the same inventory as a directory, vars files and a YAML source"
# [all:vars] moves to group_vars/all.yml, [pem_server:vars] to
# host_vars/pemserver.yml; "hosts" (no extension) is INI, hosts.ini in the
# directory is ignored as Ansible ignores it.
y=$work/yinv
mkdir -p "$y/group_vars" "$y/host_vars"
sed -n '1,/^\[pem_server:vars\]/p' "$ESTATE_INVENTORY" |
    sed '$d' >"$y/hosts"
printf '[pem_server]\nnot_this_one\n' >"$y/hosts.ini"
sed -n '/^\[all:vars\]/,$p' "$ESTATE_INVENTORY" | sed '1d' |
    sed 's/=/: /' >"$y/group_vars/all.yml"
sed -n '/^\[pem_server:vars\]/,/^$/p' "$ESTATE_INVENTORY" | sed '1d;$d' |
    sed "s/^pem_server_restart_cmd='\(.*\)'$/pem_server_restart_cmd: \1/" \
    >"$y/host_vars/pemserver.yml"
printf 'pem_agents:\n  vars:\n    app_motd: "{{ not evaluated }}"\n' \
    >"$work/extra.yml"
INV=$y run_pemrotate --dry-run -i "$work/extra.yml"
eq "exit status" 0 "$rc"
ok "plan shown" grep -q "pemrotate will rotate" "$E.out"
ok "restart command from host_vars" grep -q "restart with .*pg_ctl" "$E.out"
ok "both sources named" grep -q "estate of $y, $work/extra.yml" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "a Vault value pemrotate would use"
printf 'pem_agents:\n  vars:\n    ansible_become_password: !vault |\n'\
'      $ANSIBLE_VAULT;1.1;AES256\n      6136\n' >"$work/vault.yml"
INV=$y run_pemrotate --dry-run -i "$work/vault.yml"
eq "exit status" 2 "$rc"
ok "names file and line" \
    grep -q "$work/vault.yml:3: ansible_become_password .*Vault" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

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
