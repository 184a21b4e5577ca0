# pemrotate finalize: the overlap a rotation with a failed agent left is
# ended once every agent carries a certificate of the new CA; before, it
# is refused, naming the straggler, and nothing changes.

E=$work/fz
estates+=("$E")
estate_up "$E" 4
D=$E/pg/data

# The client CA names PostgreSQL asks for, one a line.
asked_cas() {
	in_ns sh -c "openssl s_client -starttls postgres -connect \
	    127.0.10.1:5432 </dev/null 2>/dev/null" |
	    awk 'f && /: / { exit } f { print }
	    /^Acceptable client certificate CA names/ { f = 1 }' || true
}

fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'
}

# t99_sub CA_FILE: the subject of a certificate, for openssl -subj.
t99_sub() {
	openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'
}

# t99_finalize_in DIR: finalize with the state directory DIR; $rc.
t99_finalize_in() {
	local -a a
	mapfile -t a < <(rotate_args)
	set +e
	in_ctl "$PEMROTATE" finalize "${a[@]}" -y --state-dir "$1" \
	    >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate finalize exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

begin "finalize: no overlap, nothing to do"
before=$(snapshot)
PEMCMD=finalize run_pemrotate -y
eq "exit status" 0 "$rc"
ok "says nothing to do" grep -q "holds one CA: no overlap, nothing to do" \
    "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
ok "no lock left" test ! -e "$D/pemrotate.lock"

begin "a rotation where agent4 fails to start leaves the overlap"
old_cn=$(openssl x509 -in "$D/ca_certificate.crt" -noout -subject \
    -nameopt multiline | sed -n 's/^ *commonName *= *//p')
old4=$(sha "$(agent_file 4 crt)")
flag=$work/fz-agent4-fails
touch "$flag"
fail4='if [ -e FLAG ]; then rm -f FLAG; echo agent4 refuses to start >\&2; '
fail4="${fail4//FLAG/$flag}exit 1; fi; "
sed "/^agent4 /s|pem_agent_start_cmd='|&$fail4|" \
    "$ESTATE_INVENTORY" >"$work/fz-agent4-fails.ini"
ok "inventory rewritten" grep -q "agent4 refuses to start" \
    "$work/fz-agent4-fails.ini"
INV=$work/fz-agent4-fails.ini run_pemrotate -y
eq "exit status" 1 "$rc"
run=$(last_run)
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
eq "agent4 kept its old certificate" "$old4" "$(sha "$(agent_file 4 crt)")"
ok "the run keeps the lock for resume" grep -q "^run $run" \
    "$D/pemrotate.lock"
eq "PostgreSQL asks for two CAs" 2 "$(asked_cas | grep -c .)"

begin "finalize refuses while agent4 is on the old CA"
before=$(snapshot)
PEMCMD=finalize run_pemrotate -y --report "$work/fz-refused.json"
eq "exit status" 2 "$rc"
ok "names agent4, its agent id and its CA" grep -q \
    "agent4 .*(agent id 4: .*of CA \"$old_cn\"" "$E.out"
not "names no other agent" grep -Eq "(agent[23]|pemserver) \(agent id" \
    "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
eq "root.crt still holds both CAs" 2 "$(count_certs "$D/root.crt")"
ok "the lock is still the run's" grep -q "^run $run" "$D/pemrotate.lock"
eq "the run's journal untouched" "" "$(jlast finalized "$run")"
ok "report: agent4 failed" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['exit_status'] == 2
a4 = [h for h in r['hosts'] if h['agent_id'] == 4][0]
assert a4['status'] == 'failed', a4" "$work/fz-refused.json"

begin "agent4 gets a certificate of the new CA (by hand)"
k4=$(agent_file 4 key)
c4=$(agent_file 4 crt)
subj=$(t99_sub "$c4")
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$work/fz4.key" 2>/dev/null
openssl req -new -key "$work/fz4.key" -subj "$subj" -out "$work/fz4.csr"
openssl x509 -req -in "$work/fz4.csr" -CA "$D/ca_certificate.crt" \
    -CAkey "$D/ca_key.key" -set_serial 0x7a11 -days 30 -sha256 \
    -out "$work/fz4.crt" 2>/dev/null
cat "$work/fz4.key" >"$k4"
cat "$work/fz4.crt" >"$c4"
ok "agent4 logs in with it" bash "$ESTATE" check-agent "$E" 4
rm -f "$work/fz4.key"

begin "a revocation made since the rotation is kept"
# a certificate of the new CA (serial 0xDEAD) revoked in the new CA's CRL
mkdir -p "$work/fzca"
: >"$work/fzca/index.txt"
cat >"$work/fzca/ca.cnf" <<EOF
[ ca ]
default_ca = fz
[ fz ]
database = $work/fzca/index.txt
crlnumber = $work/fzca/crlnumber
default_md = sha256
default_crl_days = 30
EOF
echo 5000 >"$work/fzca/crlnumber"
printf 'R\t301231000000Z\t250101000000Z\tDEAD\tunknown\t/CN=gone\n' \
    >"$work/fzca/index.txt"
openssl ca -batch -gencrl -config "$work/fzca/ca.cnf" \
    -keyfile "$D/ca_key.key" -cert "$D/ca_certificate.crt" \
    -out "$work/fz-new.crl" 2>/dev/null
# root.crl: that CRL, then the old CA's (the one the new CA did not sign)
awk -v d="$work/fzcrl" '/BEGIN X509 CRL/ { n++ } { print > (d n) }' \
    "$D/root.crl"
for p in "$work"/fzcrl*; do
	openssl crl -in "$p" -CAfile "$D/ca_certificate.crt" -noout 2>&1 |
	    grep -q 'verify OK' || cat "$p" >>"$work/fz-new.crl"
done
cat "$work/fz-new.crl" >"$D/root.crl"
eq "root.crl: a CRL per CA" 2 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"

begin "finalize with the lock of a run whose journal is not here: refused"
before=$(snapshot)
t99_finalize_in "$E.state-other"
eq "exit status" 2 "$rc"
ok "names the run holding the lock" \
    grep -q "holds.*pemrotate.lock.*$run" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"

begin "finalize while that run is being resumed (in progress): refused"
cp -a "$E.state" "$E.state-busy"
printf 'resumed\t%s\n' "$(date +%s)" >>"$E.state-busy/$run.journal"
t99_finalize_in "$E.state-busy"
eq "exit status" 2 "$rc"
ok "names the run holding the lock" \
    grep -q "holds.*pemrotate.lock.*$run" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
ok "the lock is still the run's" grep -q "^run $run" "$D/pemrotate.lock"

begin "finalize once every agent is on the new CA"
crt0=$(sha "$D/root.crt")
PEMCMD=finalize run_pemrotate -y --report "$work/fz-ok.json"
eq "exit status" 0 "$rc"
ok "took over the run's lock" grep -q "taking over the lock of run $run" \
    "$E.out"
eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
eq "root.crt = ca_certificate.crt" "$(fp "$D/ca_certificate.crt")" \
    "$(fp "$D/root.crt")"
frun=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["run_id"])' "$work/fz-ok.json")
eq "root.crt backup holds the overlap" "$crt0" \
    "$(sha "$(bak "$D/root.crt" "$frun")")"
eq "root.crl holds one CRL" 1 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
ok "root.crl signed by the new CA" sh -c "openssl crl -in '$D/root.crl' \
    -CAfile '$D/ca_certificate.crt' -noout 2>&1 | grep -q 'verify OK'"
ok "root.crl keeps the revocation (serial DEAD)" sh -c "openssl crl \
    -in '$D/root.crl' -noout -text | grep -q 'Serial Number: DEAD'"
eq "PostgreSQL asks for one CA" 1 "$(asked_cas | grep -c .)"
ok "every agent logs in" all_agents_login
ok "the lock is gone" test ! -e "$D/pemrotate.lock"
eq "the run's journal: finalized" yes "$(jlast finalized "$run")"
eq "the run's journal: result" ok "$(jlast result "$run")"
eq "the run's journal: exit" 0 "$(jlast exit "$run")"
ok "report: ok" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['result'] == 'ok' and r['exit_status'] == 0, r" "$work/fz-ok.json"

begin "resume of that run: nothing to do"
before=$(snapshot)
run_resume -y "$run"
eq "exit status" 0 "$rc"
ok "says nothing to resume" grep -q "nothing to resume" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"

begin "finalize again: no overlap"
PEMCMD=finalize run_pemrotate -y
eq "exit status" 0 "$rc"
ok "says nothing to do" grep -q "nothing to do" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
