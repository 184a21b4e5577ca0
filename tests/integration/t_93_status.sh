# pemrotate status: every certificate of the estate, read only.  All well
# on a fresh estate (exit 0, nothing changed, no agent stopped, no file
# left on a host); then, one at a time, an agent certificate made to expire
# soon, one revoked in root.crl, one issued by another CA, one whose key
# file holds another key: each reported as such, exit 1.  The Prometheus
# output passes promtool check metrics, or a parser here when promtool is
# not installed.  Last, a run through the locked-down estate's bastion,
# with sudo.

E=$work/st93
estates+=("$E")
estate_up "$E" 6
D=$E/pg/data

# run_status ARGS...: pemrotate status on $E; stdout in $E.sout, the rest
# in $E.out, the exit status in $rc.
run_status() {
	local -a a
	mapfile -t a < <(rotate_args)
	set +e
	in_ctl "$PEMROTATE" status "${a[@]}" "$@" >"$E.sout" 2>"$E.out"
	rc=$?
	set -e
	echo "  pemrotate status exit $rc: $(tail -n 1 "$E.sout")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# jq_status EXPR: a Python expression over the JSON output (c: the
# certificates, j: all of it), printed.
jq_status() {
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
c = j["certificates"]
def agent(n):
    return [x for x in c if x["role"] == "agent" and x["host"] == n][0]
print(eval(sys.argv[2]))' "$E.sout" "$1"
}

# What must hold after every status run: no file changed, nobody stopped,
# no pemrotate file left on a host, no lock, no journal, PEM's job on.
untouched() {
	eq "files unchanged" "$1" "$(snapshot)"
	ok "no agent was stopped" all_running
	eq "no pemrotate file on any host" "" "$(find "$E/hosts" "$D" \
	    -name '*pemrotate*' 2>/dev/null)"
	eq "no journal" "" "$(ls "$E.state" 2>/dev/null || true)"
}

prom_check() {	# prom_check FILE
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$1"
	else
		python3 "$here/tests/integration/prom_check.py" "$1"
	fi
}

begin "a fresh estate: all well, exit 0, nothing changed"
before=$(snapshot)
job_before=$(job_enabled "Check CA certificate expiry" || true)
run_status
eq "exit status" 0 "$rc"
ok "says all well" grep -q "all well" "$E.sout"
eq "rows: CA, root CA, served, file, 6 agents" 10 \
    "$(grep -cE '^(pemserver|agent[0-9]) ' "$E.sout")"
untouched "$before"
eq "PEM's job untouched" "$job_before" \
    "$(job_enabled "Check CA certificate expiry" || true)"
run_status --json
eq "json: exit 0" 0 "$rc"
eq "json: every agent active, chained, not revoked, key matches" \
    "True" "$(jq_status 'all(x["active"] and x["chains"] and
    x["revoked"] is False and x["key_matches"]
    for x in c if x["role"] == "agent")')"
eq "json: the roles" "agent ca root_ca server_file server_tls" \
    "$(jq_status '" ".join(sorted(set(x["role"] for x in c)))')"
eq "json: served = on disk" "True" "$(jq_status '[x["serial"] for x in c
    if x["role"] == "server_tls"] == [x["serial"] for x in c
    if x["role"] == "server_file"]')"
eq "json: the agent2 serial is the file's" \
    "$(openssl x509 -noout -serial -in "$(agent_file 2 crt)" | cut -d= -f2)" \
    "$(jq_status 'agent("agent2")["serial"]')"
eq "json: not_after is the file's" \
    "$(date -u -d "$(openssl x509 -noout -enddate -in "$(agent_file 2 crt)" |
    cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" \
    "$(jq_status 'agent("agent2")["not_after"]')"
run_status --format prometheus
eq "prometheus: exit 0" 0 "$rc"
ok "prometheus: passes the check" prom_check "$E.sout"
eq "prometheus: a days-left gauge per certificate" 10 \
    "$(grep -c '^pemrotate_cert_days_left{' "$E.sout")"
ok "prometheus: labelled by host and role" grep -q \
    '^pemrotate_cert_days_left{host="agent3",role="agent",' "$E.sout"
ok "prometheus: no problem" grep -qx \
    'pemrotate_problems{problem="expiring"} 0' "$E.sout"
untouched "$before"

# A working copy of the CA: openssl ca needs a database.
ca=$work/st93ca
mkdir -p "$ca"
: >"$ca/index.txt"
cat >"$ca/cnf" <<CNF
[ca]
default_ca = d
[d]
database = $ca/index.txt
default_md = sha256
default_crl_days = 30
[req]
distinguished_name = dn
[dn]
CNF

begin "agent2's certificate expires in 5 days: expiring, exit 1"
cp -p "$(agent_file 2 crt)" "$work/agent2.crt.orig"
openssl req -config "$ca/cnf" -x509 -new -key "$(agent_file 2 key)" \
    -CA "$D/ca_certificate.crt" -CAkey "$D/ca_key.key" -days 5 \
    -subj "/CN=agent2" -out "$(agent_file 2 crt)" 2>/dev/null
before=$(snapshot)
run_status --json
eq "exit status" 1 "$rc"
eq "agent2: expiring only" "['expiring']" \
    "$(jq_status 'agent("agent2")["problems"]')"
ok "agent2: 4 or 5 days left" test "$(jq_status \
    'agent("agent2")["days_left"]')" -ge 4
eq "agent3: no problem" "[]" "$(jq_status 'agent("agent3")["problems"]')"
run_status --format prometheus --warn-days 30
eq "prometheus: exit 1" 1 "$rc"
ok "prometheus: passes the check" prom_check "$E.sout"
ok "prometheus: agent2's problem" grep -q \
    '^pemrotate_cert_problem{host="agent2",role="agent",.*,problem="expiring"} 1$' \
    "$E.sout"
ok "prometheus: one expiring" grep -qx \
    'pemrotate_problems{problem="expiring"} 1' "$E.sout"
run_status --warn-days 3
eq "--warn-days 3: all well" 0 "$rc"
run_status
eq "table: exit 1" 1 "$rc"
ok "table: agent2 expiring" grep -qE '^agent2 +agent .* expiring ' "$E.sout"
untouched "$before"
cp -p "$work/agent2.crt.orig" "$(agent_file 2 crt)"

begin "agent3's certificate revoked in root.crl: revoked, exit 1"
cp -p "$D/root.crl" "$work/root.crl.orig"
openssl ca -config "$ca/cnf" -revoke "$(agent_file 3 crt)" \
    -keyfile "$D/ca_key.key" -cert "$D/ca_certificate.crt" 2>/dev/null
openssl ca -config "$ca/cnf" -gencrl -keyfile "$D/ca_key.key" \
    -cert "$D/ca_certificate.crt" -out "$D/root.crl" 2>/dev/null
before=$(snapshot)
run_status --json
eq "exit status" 1 "$rc"
eq "agent3: revoked only" "['revoked']" \
    "$(jq_status 'agent("agent3")["problems"]')"
eq "agent3: revoked is true" "True" "$(jq_status 'agent("agent3")["revoked"]')"
eq "one finding" "1" "$(jq_status 'sum(1 for x in c if x["problems"])')"
untouched "$before"
cp -p "$work/root.crl.orig" "$D/root.crl"

begin "agent4's certificate from another CA: not_chaining, exit 1"
cp -p "$(agent_file 4 crt)" "$work/agent4.crt.orig"
openssl req -config "$ca/cnf" -x509 -new -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Other CA" \
    -keyout "$ca/other.key" -out "$ca/other.crt" -days 30 2>/dev/null
openssl req -config "$ca/cnf" -x509 -new -key "$(agent_file 4 key)" \
    -CA "$ca/other.crt" -CAkey "$ca/other.key" -days 300 \
    -subj "/CN=agent4" -out "$(agent_file 4 crt)" 2>/dev/null
before=$(snapshot)
run_status --json
eq "exit status" 1 "$rc"
eq "agent4: not_chaining only" "['not_chaining']" \
    "$(jq_status 'agent("agent4")["problems"]')"
eq "agent4: revocation not judged" "None" \
    "$(jq_status 'agent("agent4")["revoked"]')"
untouched "$before"
cp -p "$work/agent4.crt.orig" "$(agent_file 4 crt)"

begin "agent5's key file holds another key: key_mismatch, exit 1"
cp -p "$(agent_file 5 key)" "$work/agent5.key.orig"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$(agent_file 5 key)" 2>/dev/null
before=$(snapshot)
run_status --format prometheus
eq "exit status" 1 "$rc"
ok "prometheus: passes the check" prom_check "$E.sout"
ok "agent5: key_mismatch" grep -q \
    '^pemrotate_cert_problem{host="agent5",role="agent",.*,problem="key_mismatch"} 1$' \
    "$E.sout"
eq "one key mismatch" 1 "$(grep -c ',problem="key_mismatch"} 1$' "$E.sout")"
ok "no key material in any output" sh -c "! grep -q 'PRIVATE KEY' \
    '$E.sout' '$E.out'"
untouched "$before"
cp -p "$work/agent5.key.orig" "$(agent_file 5 key)"

begin "an unreachable agent: an error row, exit 2"
before=$(snapshot)
bad_inv=$work/st93-bad.ini
sed -e 's/^\(agent6 .*ansible_host=\)[^ ]*/\1127.0.20.250/' \
    "$ESTATE_INVENTORY" >"$bad_inv"
INV=$bad_inv run_status --json --retries 0 --timeout 3
eq "exit status" 2 "$rc"
eq "agent6: error" "['error']" "$(jq_status 'agent("agent6")["problems"]')"
eq "the others are read" "[]" "$(jq_status 'agent("agent5")["problems"]')"
untouched "$before"

begin "all well again; options refused elsewhere"
run_status
eq "exit status" 0 "$rc"
set +e
"$PEMROTATE" rotate -i "$ESTATE_INVENTORY" --json >/dev/null 2>&1
eq "--json is status's" 2 "$?"
"$PEMROTATE" status -i "$ESTATE_INVENTORY" --format yaml >/dev/null 2>&1
eq "--format yaml refused" 2 "$?"
set -e
estate_down "$E"

E=$work/lock93
estates+=("$E")
estate_up "$E" 4 --locked-down
D=$E/pg/data

begin "locked down: through the bastion, as pemops with sudo"
before=$(snapshot)
INV=$ESTATE_LOCKED_INVENTORY KH=none WHERE=ctl run_status --json \
    --ssh-config "$ESTATE_SSH_CONFIG"
eq "exit status" 0 "$rc"
eq "every agent's key read and matched (root's files, via sudo)" "True" \
    "$(jq_status 'len([x for x in c if x["role"] == "agent" and
    x["key_matches"]]) == 4')"
eq "the served certificate read through the tunnel" "True" \
    "$(jq_status 'any(x["role"] == "server_tls" and x["chains"]
    for x in c)')"
untouched "$before"
estate_down "$E"
