# A whole rotation of a 12-agent estate, checked as an operator would.

begin "rotate the estate"
D=$E/pg/data
declare -A old
for f in $server_files; do old[$f]=$(sha "$D/$f"); done
for id in $(seq 1 "$ESTATE_N"); do
	old[k$id]=$(sha "$(agent_file "$id" key)")
	old[c$id]=$(sha "$(agent_file "$id" crt)")
done
old_ca_fp=$(openssl x509 -in "$D/ca_certificate.crt" -noout -fingerprint \
    -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
run_pemrotate -y -j 4 --report "$work/report.json"
eq "exit status" 0 "$rc"
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/report.json")

begin "server files replaced, originals kept"
for f in $server_files; do
	not "$f replaced" test "${old[$f]}" = "$(sha "$D/$f")"
	eq "$f backup holds the original" "${old[$f]}" "$(sha "$(bak "$D/$f" "$run_id")")"
	eq "$f mode and owner" "600 postgres" "$(stat -c '%a %U' "$D/$f")"
	eq "$f backup mode and owner" "600 postgres" "$(stat -c '%a %U' "$(bak "$D/$f" "$run_id")")"
done
ok "no temporary files left" test -z "$(find "$D" -name '.*pemrotate*')"
eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
ok "root.crt = ca_certificate.crt" cmp -s "$D/root.crt" "$D/ca_certificate.crt"
eq "root.crl holds one CRL" 1 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
ok "root.crl signed by the new CA" sh -c "openssl crl -in '$D/root.crl' \
    -CAfile '$D/ca_certificate.crt' -noout 2>&1 | grep -q 'verify OK'"
ok "CA is a CA" sh -c "openssl x509 -in '$D/ca_certificate.crt' -noout \
    -text | grep -q 'CA:TRUE'"
ok "key matches server.crt" test \
    "$(openssl pkey -in "$D/server.key" -pubout)" = \
    "$(openssl x509 -in "$D/server.crt" -noout -pubkey)"

begin "PostgreSQL serves the new certificate, verify-full style"
served=$(in_ns sh -c "openssl s_client -starttls postgres -connect \
    127.0.10.1:5432 -CAfile '$D/ca_certificate.crt' -verify_ip \
    127.0.10.1 -verify_return_error </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256" || true)
eq "served = server.crt" \
    "$(openssl x509 -in "$D/server.crt" -noout -fingerprint -sha256)" \
    "$served"
ok "libpq verify-full works" in_ns sh -c "PGSSLROOTCERT='$D/ca_certificate.crt' \
    psql 'host=127.0.10.1 dbname=pem user=pemadmin sslmode=verify-full' \
    -XAtqc 'select 1'"

begin "every agent has a new key and certificate and logged in with it"
for id in $(seq 1 "$ESTATE_N"); do
	k=$(agent_file "$id" key)
	c=$(agent_file "$id" crt)
	not "agent$id key replaced" test "${old[k$id]}" = "$(sha "$k")"
	not "agent$id crt replaced" test "${old[c$id]}" = "$(sha "$c")"
	eq "agent$id key backup" "${old[k$id]}" "$(sha "$(bak "$k" "$run_id")")"
	eq "agent$id key mode" 600 "$(stat -c %a "$k")"
	ok "agent$id crt verifies with CRL" sh -c "openssl verify -crl_check_all \
	    -CAfile '$D/root.crt' -CRLfile '$D/root.crl' '$c' | grep -q ': OK'"
	ok "agent$id CN" sh -c "openssl x509 -in '$c' -noout -subject |
	    grep -q 'CN *= *agent$id\$'"
	ok "agent$id key matches" test "$(openssl pkey -in "$k" -pubout)" = \
	    "$(openssl x509 -in "$c" -noout -pubkey)"
	ok "agent$id started on the new certificate" sh -c "tail -n 1 \
	    '$(agent_dir "$id")/agent.log' | grep -q 'start ok $(sha "$c")'"
done
ok "every agent logs in now" all_agents_login

begin "an old agent certificate is refused"
not "old agent2 certificate" in_ns env PGSSLMODE=require \
    PGSSLCERT="$(bak "$(agent_file 2 crt)" "$run_id")" \
    PGSSLKEY="$(bak "$(agent_file 2 key)" "$run_id")" \
    psql "host=127.0.10.1 dbname=pem user=agent2" -XAtqc 'select 1'
ok "new agent2 certificate" in_ns env PGSSLMODE=require \
    PGSSLCERT="$(agent_file 2 crt)" PGSSLKEY="$(agent_file 2 key)" \
    psql "host=127.0.10.1 dbname=pem user=agent2" -XAtqc 'select 1'

begin "the JSON report is complete"
new_ca_fp=$(openssl x509 -in "$D/ca_certificate.crt" -noout -fingerprint \
    -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
ok "report fields" python3 - "$work/report.json" "$ESTATE_N" "$old_ca_fp" \
    "$new_ca_fp" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["command"] == "rotate" and r["result"] == "ok", r["result"]
assert r["ca"]["old_sha256"] == sys.argv[3], r["ca"]
assert r["ca"]["new_sha256"] == sys.argv[4], r["ca"]
assert r["started"] <= r["finished"]
hosts = r["hosts"]
assert len(hosts) == n, len(hosts)
ids = sorted(h["agent_id"] for h in hosts)
assert ids == list(range(1, n + 1)), ids
for h in hosts:
    assert set(h) >= {"name", "address", "role", "agent_id", "status",
                      "phase", "error", "seconds"}, h
    assert h["status"] == "ok" and h["error"] is None, h
assert [h["role"] for h in hosts].count("server") == 1
PY
not "no key material in report or output" grep -q "PRIVATE KEY" \
    "$work/report.json" "$E.out"
ok "table on stdout" grep -q "^pemserver (127.0.10.1) *server *1 *ok" "$E.out"

begin "a second rotation, --no-overlap, restart and database found alone"
# no pem_server_restart_cmd: detected (pg_ctl as the postmaster's uid,
# the postmaster's stderr kept); no --pem-db: the [pem_server] host,
# verified with the PEM CA
pid0=$(head -n 1 "$D/postmaster.pid")
grep -v '^pem_server_restart_cmd' "$ESTATE_INVENTORY" >"$work/detect.ini"
set +e
in_ns env PGUSER=pemadmin "$PEMROTATE" rotate \
    -i "$work/detect.ini" --known-hosts "$ESTATE_KNOWN_HOSTS" \
    --key-type ec:P-256 --state-dir "$E.state" -y --no-overlap >"$E.out" 2>&1
rc=$?
set -e
eq "exit status" 0 "$rc"
ok "plan used pg_ctl restart" grep -q "restarting PostgreSQL" "$E.out"
not "PostgreSQL was restarted" test "$pid0" = "$(head -n 1 "$D/postmaster.pid")"
ok "postmaster log still where it was" sh -c "grep -q 'database system is ready' '$E/pg/log'"
not "no log file of ours in the data directory" test -e "$D/pemrotate-restart.log"
eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
ok "every agent logs in" all_agents_login

begin "--keygen remote: each agent host makes its own key"
run_pemrotate -y --keygen remote --key-type ec:P-384
eq "exit status" 0 "$rc"
for id in 1 6 12; do
	k=$(agent_file "$id" key)
	c=$(agent_file "$id" crt)
	ok "agent$id key made on the host is P-384" sh -c \
	    "openssl pkey -in '$k' -noout -text | grep -q 'NIST CURVE: P-384'"
	eq "agent$id key mode" 600 "$(stat -c %a "$k")"
	ok "agent$id key matches" test "$(openssl pkey -in "$k" -pubout)" = \
	    "$(openssl x509 -in "$c" -noout -pubkey)"
	ok "agent$id crt verifies" sh -c "openssl verify -crl_check_all \
	    -CAfile '$D/root.crt' -CRLfile '$D/root.crl' '$c' | grep -q ': OK'"
done
ok "every agent logs in" all_agents_login

begin "--max-open 3: hosts beyond it log in again for each phase"
before_crt=$(sha "$(agent_file 12 crt)")
logins() { grep -c "Accepted publickey for pemrt" "$E/sshd/log" || true; }
n0=$(logins)
run_pemrotate -y --max-open 3 -j 4
eq "exit status" 0 "$rc"
not "agent12 rotated" test "$before_crt" = "$(sha "$(agent_file 12 crt)")"
ok "every agent logs in" all_agents_login
# 3 hosts keep one session; 9 log in for preflight, stop and push
eq "logins" 30 "$(( $(logins) - n0 ))"
n0=$(logins)
run_pemrotate -y -j 4
eq "default: one login per host" 12 "$(( $(logins) - n0 ))"
