# pemrotate revoke: an agent's certificate goes into root.crl, PostgreSQL
# reloads it, the agent's login is refused; every other agent still logs in.

E=$work/rv
estates+=("$E")
estate_up "$E" 5
D=$E/pg/data
# each agent's one login with its files, for the proof
sed -E "s#pem_agent_status_cmd='([^ ]+) status ([^']+)'#& pem_agent_check_cmd='\\1 check \\2'#" \
    "$ESTATE_INVENTORY" >"$work/rv-check.ini"

# t97_run CMD ARGS...: pemrotate CMD against $E; output in $E.out, $rc.
t97_run() {
	local cmd=$1 a
	shift
	mapfile -t a < <(rotate_args)
	set +e
	in_ctl "$PEMROTATE" "$cmd" "${a[@]}" "$@" >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate $cmd exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

crl_number() {	# the first CRL's number, in decimal (0: none)
	local n
	n=$(openssl crl -in "$D/root.crl" -noout -crlnumber | sed 's/.*=//')
	case $n in 0x*) printf '%d\n' "$n" ;; *) echo 0 ;; esac
}

# revoked ID: agent ID's certificate is listed in root.crl
revoked() {
	local s
	s=$(openssl x509 -in "$(agent_file "$1" crt)" -noout -serial |
	    sed 's/.*=//')
	openssl crl -in "$D/root.crl" -noout -text | grep -q "Serial Number: $s"
}

logs_in() {
	bash "$ESTATE" check-agent "$E" "$1"
}

begin "revoke: bad requests change nothing"
before=$(snapshot)
INV=$work/rv-check.ini t97_run revoke -y
eq "no --agent: exit" 2 "$rc"
ok "says --agent is needed" grep -q "exactly one --agent" "$E.out"
INV=$work/rv-check.ini t97_run revoke -y --agent agent2 --agent agent3
eq "two --agent: exit" 2 "$rc"
INV=$work/rv-check.ini t97_run revoke -y --agent nosuch
eq "unknown agent: exit" 2 "$rc"
ok "names it" grep -q 'no agent "nosuch"' "$E.out"
t97_run rotate -y --agent agent2
eq "--agent on rotate: exit" 2 "$rc"
eq "nothing changed" "$before" "$(snapshot)"
ok "no lock left" test ! -e "$D/pemrotate.lock"

begin "revoke agent2 by name"
num0=$(crl_number)
crl0=$(sha "$D/root.crl")
INV=$work/rv-check.ini t97_run revoke -y --agent agent2 \
    --report "$work/rv.json"
eq "exit status" 0 "$rc"
run1=$(last_run)
ok "agent2 listed in root.crl" revoked 2
ok "the CRL is signed by the CA" sh -c "openssl crl -in '$D/root.crl' \
    -CAfile '$D/ca_certificate.crt' -noout 2>&1 | grep -q 'verify OK'"
num1=$(crl_number)
ok "the CRL number increased ($num0 -> $num1)" test "$num1" -gt "$num0"
eq "root.crl backup holds the original" "$crl0" \
    "$(sha "$(bak "$D/root.crl" "$run1")")"
not "agent2 can no longer log in" logs_in 2
ok "says its login is refused" grep -q "agent2.*login is refused" "$E.out"
for id in 1 3 4 5; do
	ok "agent$id still logs in" logs_in "$id"
done
ok "openssl refuses agent2 with the CRL" sh -c "openssl verify \
    -crl_check_all -CAfile '$D/root.crt' -CRLfile '$D/root.crl' \
    '$(agent_file 2 crt)' 2>&1 | grep -q 'certificate revoked'"
ok "report: ok" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['result'] == 'ok' and r['exit_status'] == 0, r" "$work/rv.json"
ok "the journal names the command" jhas command revoke
ok "no lock left" test ! -e "$D/pemrotate.lock"
ok "no temporary files left" test -z "$(find "$D" -name '.*pemrotate*')"
run_resume "$run1"
eq "resume has nothing to do" 0 "$rc"
ok "resume says it was a revoke" grep -q 'was "pemrotate revoke"' "$E.out"

begin "revoke agent3 by agent_id keeps agent2's revocation"
id3=$(sed -n 's/^agent_id *= *//p' "$(agent_dir 3)/etc/agent.cfg")
INV=$work/rv-check.ini t97_run revoke -y --agent "$id3"
eq "exit status" 0 "$rc"
ok "agent3 listed" revoked 3
ok "agent2 still listed" revoked 2
num2=$(crl_number)
ok "the CRL number increased ($num1 -> $num2)" test "$num2" -gt "$num1"
eq "root.crl holds one CRL per CA" "$(count_certs "$D/root.crt")" \
    "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
not "agent2 refused" logs_in 2
not "agent3 refused" logs_in 3
for id in 1 4 5; do
	ok "agent$id still logs in" logs_in "$id"
done

begin "revoking again changes nothing"
crl2=$(sha "$D/root.crl")
INV=$work/rv-check.ini t97_run revoke -y --agent agent2
eq "exit status" 0 "$rc"
ok "says it is already revoked" grep -q "already in" "$E.out"
eq "root.crl unchanged" "$crl2" "$(sha "$D/root.crl")"

begin "without pem_agent_check_cmd the CRL alone shows it"
t97_run revoke -y --agent agent4
eq "exit status" 0 "$rc"
ok "warns" grep -q "no pem_agent_check_cmd" "$E.out"
ok "agent4 listed" revoked 4
not "agent4 refused" logs_in 4
ok "agent5 still logs in" logs_in 5
ok "agent1 still logs in" logs_in 1
