# Failures that must never lock an agent out or lose a file.

E=$work/b
estates+=("$E")
estate_up "$E" 10
D=$E/pg/data
before=$(snapshot)
old_served=$(openssl x509 -in "$D/server.crt" -noout -fingerprint -sha256)

begin "restart fails: the server is rolled back"
flag=$work/restart-failed-once
sed "s|^pem_server_restart_cmd='|pem_server_restart_cmd='test -e $flag \|\| { touch $flag; echo simulated restart failure >\&2; exit 1; }; |" \
    "$ESTATE_INVENTORY" >"$work/restart-fails.ini"
ok "inventory rewritten" grep -q "simulated restart failure" "$work/restart-fails.ini"
INV=$work/restart-fails.ini run_pemrotate -y --report "$work/rollback.json"
eq "exit status" 3 "$rc"
ok "says why" grep -q "simulated restart failure" "$E.out"
ok "says it rolled back" grep -q "runs on its original files again" "$E.out"
eq "every file as before" "$before" "$(snapshot)"
served=$(in_ns sh -c "openssl s_client -starttls postgres -connect \
    127.0.10.1:5432 </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256" || true)
eq "the original certificate is served" "$old_served" "$served"
ok "every agent runs again" sh -c "! grep -L running $E/hosts/*/agent.state | grep -q ."
ok "every agent logs in" all_agents_login
ok "report says rolled_back" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['result'] == 'rolled_back' and r['exit_status'] == 3
s = [h for h in r['hosts'] if h['role'] == 'server'][0]
assert s['status'] == 'failed' and s['phase'] == 'server', s" \
    "$work/rollback.json"

begin "a read-only agent directory is found before any change"
pemdir=$(dirname "$(agent_file 4 key)")
old4=$(sha "$(agent_file 4 crt)")
before=$(snapshot)
# sshd runs in the mount namespace "ip netns exec" gave it: mount there
in_sshd_ns() {
	nsenter --target "$(cat "$E/sshd/sshd.pid")" --mount -- "$@"
}
in_sshd_ns mount --bind "$pemdir" "$pemdir"
in_sshd_ns mount -o remount,ro,bind "$pemdir"
not "the directory is read-only for the sshd" in_sshd_ns touch "$pemdir/x"
run_pemrotate -y
in_sshd_ns umount "$pemdir"
eq "exit status" 2 "$rc"
ok "names the host and directory" grep -q "agent4.*cannot write in $pemdir" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
ok "agents untouched" sh -c "! grep -L running $E/hosts/*/agent.state | grep -q ."

begin "one agent fails to start on its new certificate: it keeps its old one"
flag=$work/agent4-fails-once
touch "$flag"
sed "/^agent4 /s|pem_agent_start_cmd='|pem_agent_start_cmd='if [ -e $flag ]; then rm -f $flag; echo agent4 refuses to start >\&2; exit 1; fi; |" \
    "$ESTATE_INVENTORY" >"$work/agent4-fails.ini"
INV=$work/agent4-fails.ini run_pemrotate -y --report "$work/partial.json"
eq "exit status" 1 "$rc"
ok "names the host and why" grep -q "agent4.*push.*agent4 refuses to start" "$E.out"
eq "agent4 kept its certificate" "$old4" "$(sha "$(agent_file 4 crt)")"
ok "agent4 runs on its old certificate" grep -q running \
    "$(agent_dir 4)/agent.state"
ok "agent4 logs in (old CA still trusted)" \
    bash "$ESTATE" check-agent "$E" 4
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
eq "root.crl holds a CRL per CA" 2 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
ok "every agent logs in" all_agents_login
ok "report: agent4 failed, others ok" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['result'] == 'partial' and r['exit_status'] == 1
for h in r['hosts']:
    want = 'failed' if h['agent_id'] == 4 else 'ok'
    assert h['status'] == want, h" "$work/partial.json"

begin "while the run is unfinished another rotation is refused"
run_id=$(last_run)
ok "the run named the command that finishes it" \
    grep -q "pemrotate resume $run_id" "$E.out"
keep=$(snapshot)
run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names the run holding the lock" grep -q "holds.*pemrotate.lock.*$run_id" "$E.out"
eq "nothing changed" "$keep" "$(snapshot)"

begin "resume once fixed: agent4 rotated, overlap ended"
run_resume -y
eq "exit status" 0 "$rc"
ok "the lock is gone" test ! -e "$D/pemrotate.lock"
eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
not "agent4 has a new certificate" test "$old4" = "$(sha "$(agent_file 4 crt)")"
ok "every agent logs in" all_agents_login
