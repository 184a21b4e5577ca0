# Faults in the estate: unreachable and unresponsive hosts, a failing
# canary, --max-failures, a PostgreSQL that cannot load the new files, new
# host keys, and PEM's own CA job.

E=$work/f
estates+=("$E")
estate_up "$E" 8
D=$E/pg/data

# t60_inv NAME SED-SCRIPT: $work/NAME.ini, the inventory edited by sed.
t60_inv() {
	sed "$2" "$ESTATE_INVENTORY" >"$work/$1.ini"
	not "$1.ini differs from the inventory" cmp -s "$work/$1.ini" \
	    "$ESTATE_INVENTORY"
}

# t60_fail_once ID FLAG: agent ID's start command fails once, while FLAG
# exists (and removes it).
t60_fail_once() {
	echo "s|^\($(agent_name "$1") .*pem_agent_start_cmd='\)|\1if [ -e $2 ]; then rm -f $2; echo simulated start failure >\&2; exit 1; fi; |"
}

# t60_report FILE PYTHON: assert on the JSON report r (hosts in h by agent
# ID; an unreachable host's ID is unknown: by name).
t60_report() {
	python3 -c "import json, sys
r = json.load(open(sys.argv[1]))
h = {(1 if x['name'] == 'pemserver' else int(x['name'][5:])): x
     for x in r['hosts']}
$2" "$1"
}

# ---- 1: unreachable host --------------------------------------------------

begin "unreachable host: preflight fails"
t60_inv unreachable 's|^agent7 ansible_host=127.0.20.8 |&ansible_port=2222 |'
t60_before=$(snapshot)
t60_orig=$(agent_crts)
INV=$work/unreachable.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names agent7" grep -q "agent7" "$E.out"
eq "nothing changed" "$t60_before" "$(snapshot)"
ok "every agent runs" all_running
ok "no lock" test ! -e "$D/pemrotate.lock"

begin "unreachable host with --skip-unreachable: skipped, overlap kept"
INV=$work/unreachable.ini run_pemrotate -y --skip-unreachable --retries 0 \
    --report "$work/skip.json"
eq "exit status" 1 "$rc"
ok "report: agent7 skipped, the others ok" t60_report "$work/skip.json" "
assert r['result'] == 'partial', r['result']
for i in range(1, 9):
    want = 'skipped' if i == 7 else 'ok'
    assert h[i]['status'] == want, h[i]"
eq "journal result" partial "$(jlast result)"
not "agent7 was not stopped" jhas stopped agent7
for id in $(seq 1 "$ESTATE_N"); do
	c=$(sha "$(agent_file "$id" crt)")
	if [ "$id" -eq 7 ]; then
		eq "agent7 kept its certificate" "$(sed -n 7p <<<"$t60_orig")" "$c"
	else
		not "agent$id has a new certificate" \
		    test "$(sed -n "${id}p" <<<"$t60_orig")" = "$c"
	fi
done
ok "agent7 runs" grep -qx running "$(agent_dir 7)/agent.state"
ok "agent7 logs in with its old certificate" bash "$ESTATE" check-agent "$E" 7
ok "every agent logs in" all_agents_login
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
ok "the lock is kept" test -e "$D/pemrotate.lock"
eq "the CA expiry job is enabled again" t \
    "$(job_enabled 'Check CA certificate expiry')"

begin "unreachable host: resume with the fixed inventory finishes"
run_resume -y -i "$ESTATE_INVENTORY"
eq "exit status" 0 "$rc"
eq "journal result" ok "$(jlast result)"
finished "$t60_orig"

# ---- 2: a host that accepts and never answers -----------------------------

begin "unresponsive host: preflight times out"
# A listener on 2200 in the namespace that accepts and never says a word.
in_ns python3 -c 'import socket
t60_tarpit = socket.socket()
t60_tarpit.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t60_tarpit.bind(("0.0.0.0", 2200))
t60_tarpit.listen(64)
held = []
while True:
    held.append(t60_tarpit.accept()[0])' >/dev/null 2>&1 &
t60_tarpit_job=$!
t60_end=$((SECONDS + 10))
until in_ns bash -c 'exec 3<>/dev/tcp/127.0.20.6/2200' 2>/dev/null ||
    [ "$SECONDS" -ge "$t60_end" ]; do
	sleep 0.1
done
ok "the listener accepts" in_ns bash -c 'exec 3<>/dev/tcp/127.0.20.6/2200'
t60_inv tarpit 's|^agent5 ansible_host=127.0.20.6 |&ansible_port=2200 |'
t60_before=$(snapshot)
t60_t0=$(date +%s)
INV=$work/tarpit.ini run_pemrotate -y --timeout 8 --retries 0
t60_took=$(($(date +%s) - t60_t0))
echo "  took ${t60_took}s"
for p in $(pgrep -f t60_tarpit); do kill "$p" 2>/dev/null || true; done
wait "$t60_tarpit_job" 2>/dev/null || true
eq "exit status" 2 "$rc"
ok "within 30 s" test "$t60_took" -lt 30
ok "names agent5 and the timeout" grep -Eqi "agent5.*(timed out|timeout)" \
    "$E.out"
grep -i "error:" "$E.out" | head -n 3 | sed 's/^/    /' >&2
eq "nothing changed" "$t60_before" "$(snapshot)"
ok "every agent runs" all_running
ok "no lock" test ! -e "$D/pemrotate.lock"

# ---- 3: the canary fails --------------------------------------------------

begin "canary: agent2 fails, the rest are not rotated"
t60_flag=$work/agent2-fails-once
touch "$t60_flag"
t60_inv canary "$(t60_fail_once 2 "$t60_flag")"
ok "canary.ini: agent2's start fails once" grep -q \
    "^agent2 .*start_cmd='if \[ -e $t60_flag \]" "$work/canary.ini"
t60_orig=$(agent_crts)
INV=$work/canary.ini run_pemrotate -y --canary 2 --report "$work/canary.json"
eq "exit status" 1 "$rc"
not "the flag was used" test -e "$t60_flag"
ok "says agent2 failed" grep -q "agent2.*simulated start failure" "$E.out"
ok "report: agent1 ok, agent2 failed, the rest not ok" t60_report \
    "$work/canary.json" "
assert h[1]['status'] == 'ok', h[1]
assert h[2]['status'] == 'failed', h[2]
for i in range(3, 9):
    assert h[i]['status'] != 'ok', h[i]"
ok "agent1 (pemserver) pushed" jhas pushed pemserver
not "agent1 has a new certificate" \
    test "$(sed -n 1p <<<"$t60_orig")" = "$(sha "$(agent_file 1 crt)")"
for id in $(seq 2 "$ESTATE_N"); do
	not "agent$id not pushed" jhas pushed "agent$id"
	eq "agent$id kept its certificate" "$(sed -n "${id}p" <<<"$t60_orig")" \
	    "$(sha "$(agent_file "$id" crt)")"
done
ok "every agent runs" all_running
ok "every agent logs in" all_agents_login
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
ok "the lock is kept" test -e "$D/pemrotate.lock"

begin "canary: resume finishes"
run_resume -y
eq "exit status" 0 "$rc"
finished "$t60_orig"

# ---- 4: --max-failures 0 ----------------------------------------------------

begin "--max-failures 0: no agent is pushed after the first failure"
t60_flag=$work/agent3-fails-once
touch "$t60_flag"
t60_inv maxfail "$(t60_fail_once 3 "$t60_flag")"
t60_orig=$(agent_crts)
INV=$work/maxfail.ini run_pemrotate -y -j 1 --max-failures 0
eq "exit status" 1 "$rc"
not "the flag was used" test -e "$t60_flag"
for id in $(seq 1 "$ESTATE_N"); do
	c=$(sha "$(agent_file "$id" crt)")
	if [ "$id" -lt 3 ]; then
		ok "agent$id (before agent3) pushed" jhas pushed "$(agent_name "$id")"
		not "agent$id has a new certificate" \
		    test "$(sed -n "${id}p" <<<"$t60_orig")" = "$c"
	else
		not "agent$id not pushed" jhas pushed "agent$id"
		eq "agent$id kept its certificate" \
		    "$(sed -n "${id}p" <<<"$t60_orig")" "$c"
	fi
done
ok "every agent runs" all_running
ok "every agent logs in" all_agents_login
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
ok "the lock is kept" test -e "$D/pemrotate.lock"

begin "--max-failures 0: resume finishes"
run_resume -y
eq "exit status" 0 "$rc"
finished "$t60_orig"

# ---- 5: PostgreSQL cannot load the new files ----------------------------------

begin "PostgreSQL cannot load the new files: rolled back without a restart"
chown root:root "$D/server.key"
t60_pm=$(head -n 1 "$D/postmaster.pid")
t60_served=$(served_fp)
ok "the original certificate is served" test "$t60_served" = \
    "$(openssl x509 -in "$D/server.crt" -noout -fingerprint -sha256)"
t60_server=$(server_snapshot)
t60_before=$(snapshot)
# root's file in postgres's directory: refused, unless the operator says so
run_pemrotate -y
eq "root's server.key in postgres's directory: exit status" 2 "$rc"
ok "names the file, the directory's owner and the override" grep -q \
    "server.key.*uid $(id -u postgres).*--allow-shared-dirs" "$E.out"
eq "nothing changed" "$t60_before" "$(snapshot)"
run_pemrotate -y --allow-shared-dirs --report "$work/noload.json"
ok "warns that root works in postgres's directory" grep -q \
    "server.key.*--allow-shared-dirs: acting as uid 0" "$E.out"
eq "exit status" 3 "$rc"
eq "PostgreSQL was never restarted" "$t60_pm" "$(head -n 1 "$D/postmaster.pid")"
eq "the original certificate is still served" "$t60_served" "$(served_fp)"
eq "server files as before" "$t60_server" "$(server_snapshot)"
eq "every file as before" "$t60_before" "$(snapshot)"
ok "mentions the reload" grep -qi "reload" "$E.out"
ok "every agent runs" all_running
ok "every agent logs in" all_agents_login
eq "journal result" rolled_back "$(jlast result)"
ok "no lock" test ! -e "$D/pemrotate.lock"
eq "the CA expiry job is enabled again" t \
    "$(job_enabled 'Check CA certificate expiry')"
chown postgres:postgres "$D/server.key"

begin "PostgreSQL can load them again: a normal run works"
t60_orig=$(agent_crts)
run_pemrotate -y
eq "exit status" 0 "$rc"
eq "journal result" ok "$(jlast result)"
finished "$t60_orig"
eq "served = server.crt" \
    "$(openssl x509 -in "$D/server.crt" -noout -fingerprint -sha256)" \
    "$(served_fp)"

# ---- 6: PEM's CA job --------------------------------------------------------

begin "PEM's CA job: disabled during the run, enabled after; Purge logs untouched"
t60_ca_job=$(in_ns psql "$PEMDB" -XAtqc \
    "select jobid from pem.job where jobname='Check CA certificate expiry'")
t60_purge_job=$(in_ns psql "$PEMDB" -XAtqc \
    "select jobid from pem.job where jobname='Purge logs'")
eq "the CA job is enabled" t "$(job_enabled 'Check CA certificate expiry')"
ok "the journal disabled it" jhas job_disabled "$t60_ca_job"
ok "the journal enabled it again" jhas job_enabled "$t60_ca_job"
ok "disabled before anything was stopped" sh -c "grep -n -m1 -E \
    '^(job_disabled|stopped)	' '$(journal_of)' | grep -q job_disabled"
ok "enabled again after finalizing" sh -c "grep -E \
    '^(finalized|job_enabled)	' '$(journal_of)' | tail -n 1 |
    grep -q job_enabled"
eq "Purge logs is enabled" t "$(job_enabled 'Purge logs')"
not "no journal of this estate touched Purge logs" grep -Eq \
    "^job_(disabled|enabled)	$t60_purge_job\$" "$E.state"/*.journal

# ---- 7: --accept-new-host-keys -------------------------------------------------

begin "unknown host key: refused without --accept-new-host-keys"
cp "$ESTATE_KNOWN_HOSTS" "$work/kh-new"
ssh-keygen -q -R 127.0.20.4 -f "$work/kh-new" >/dev/null 2>&1
rm -f "$work/kh-new.old"
not "127.0.20.4 is not known" ssh-keygen -F 127.0.20.4 -f "$work/kh-new"
KH=$work/kh-new run_pemrotate --dry-run
eq "exit status" 2 "$rc"
ok "says the key is unknown" grep -q "agent3.*host key unknown" "$E.out"

begin "unknown host key: trusted and recorded with --accept-new-host-keys"
KH=$work/kh-new run_pemrotate --dry-run --accept-new-host-keys
eq "exit status" 0 "$rc"
ok "127.0.20.4 is recorded" ssh-keygen -F 127.0.20.4 -f "$work/kh-new"
t60_keys() {	# t60_keys FILE: the host keys FILE lists for 127.0.20.4
	ssh-keygen -F 127.0.20.4 -f "$1" | grep -v '^#' | awk '{print $2, $3}'
}
ok "the recorded key is one of the sshd's host keys" grep -qxF \
    "$(t60_keys "$work/kh-new")" <(cat "$E"/sshd/*.pub | awk '{print $1, $2}')
KH=$work/kh-new run_pemrotate --dry-run
eq "then known without the flag" 0 "$rc"

begin "changed host key: still refused with --accept-new-host-keys"
cp "$ESTATE_KNOWN_HOSTS" "$work/kh-changed60"
ssh-keygen -q -R 127.0.20.4 -f "$work/kh-changed60" >/dev/null 2>&1
rm -f "$work/kh-changed60.old"
ssh-keygen -q -t ed25519 -N '' -f "$work/otherkey60" >/dev/null
echo "127.0.20.4 $(cut -d' ' -f1,2 "$work/otherkey60.pub")" \
    >>"$work/kh-changed60"
cp "$work/kh-changed60" "$work/kh-changed60.before"
t60_before=$(snapshot)
KH=$work/kh-changed60 run_pemrotate -y --accept-new-host-keys
eq "exit status" 2 "$rc"
ok "says the key changed" grep -q "agent3.*HOST KEY CHANGED" "$E.out"
ok "known_hosts not changed" cmp -s "$work/kh-changed60" \
    "$work/kh-changed60.before"
eq "nothing changed" "$t60_before" "$(snapshot)"
ok "every agent runs" all_running
