# pemrotate agents: new agent certificates from the current CA, the
# server's files left alone; only the chosen agents' key and certificate
# change, and they log in with them.

E=$work/ag
estates+=("$E")
estate_up "$E" 5
D=$E/pg/data
# each agent's one login with its files, for the verification
sed -E "s#pem_agent_status_cmd='([^ ]+) status ([^']+)'#& pem_agent_check_cmd='\\1 check \\2'#" \
    "$ESTATE_INVENTORY" >"$work/ag-check.ini"

# t98_run ARGS...: pemrotate agents against $E; output in $E.out, $rc.
t98_run() {
	local a
	mapfile -t a < <(INV=${INV:-$work/ag-check.ini} rotate_args)
	set +e
	in_ctl "$PEMROTATE" agents "${a[@]}" "$@" >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate agents exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# every file of every host and of the server's data directory (PostgreSQL's
# own working files, the agents' run state and logs, and backups aside),
# "sha  path" a line; the files named as arguments left out.
t98_files() {
	local skip
	skip=$(printf '%s\n' "$@")
	{
		find "$E/hosts" -type f
		find "$D" -maxdepth 1 -type f
	} | grep -v -e '\.pemrotate-' -e '/agent\.state$' -e '\.log$' \
	    -e '/postmaster\.pid$' -e '/postmaster\.opts$' \
	    -e '/\.pemrotate' -e '/pemrotate\.lock$' |
	    grep -vxF -e "${skip:-/nonexistent}" | sort |
	    while read -r f; do
		printf '%s  %s\n' "$(sha "$f")" "$f"
	    done
}

logs_in() {
	bash "$ESTATE" check-agent "$E" "$1"
}

cn_of() {
	openssl x509 -in "$(agent_file "$1" crt)" -noout -subject |
	    sed 's/.*CN *= *//'
}

of_ca() {	# of_ca ID: agent ID's certificate is signed by the estate CA
	openssl verify -CAfile "$D/ca_certificate.crt" \
	    "$(agent_file "$1" crt)" | grep -q ': OK$'
}

key_matches() {	# key_matches ID
	local k c
	k=$(openssl pkey -in "$(agent_file "$1" key)" -pubout | sha256sum)
	c=$(openssl x509 -in "$(agent_file "$1" crt)" -noout -pubkey |
	    sha256sum)
	[ "$k" = "$c" ]
}

begin "agents: bad requests change nothing"
before=$(t98_files)
ok "the file list covers every host and the server's files" test \
    "$(printf '%s\n' "$before" | grep -c -e '/agent[0-9]*\.key$' \
    -e '/ca_key\.key$' -e '/root\.crl$' -e '/agent\.cfg$')" -eq 12
t98_run -y --agent nosuch
eq "unknown agent: exit" 2 "$rc"
ok "names it" grep -q 'no agent "nosuch"' "$E.out"
t98_run -y --agent agent2 --agent nosuch
eq "a known and an unknown agent: exit" 2 "$rc"
t98_run -y --expiring-within -3
eq "negative --expiring-within: exit" 2 "$rc"
t98_run -y --expiring-within 3 --warn-days 4
eq "--warn-days on agents: exit" 2 "$rc"
eq "nothing changed" "$before" "$(t98_files)"
ok "no lock left" test ! -e "$D/pemrotate.lock"
ok "every agent still logs in" all_agents_login

begin "agents: renew agent2 and agent3 (by name and by agent_id)"
id3=$(sed -n 's/^agent_id *= *//p' "$(agent_dir 3)/etc/agent.cfg")
k2=$(agent_file 2 key); c2=$(agent_file 2 crt)
k3=$(agent_file 3 key); c3=$(agent_file 3 crt)
others=$(t98_files "$k2" "$c2" "$k3" "$c3")
srv=$(server_snapshot)
old2="$(sha "$k2") $(sha "$c2")"
# shellcheck disable=SC2034 # read as ${!old}
old3="$(sha "$k3") $(sha "$c3")"
t98_run -y --agent agent2 --agent "$id3" --report "$work/ag.json"
eq "exit status" 0 "$rc"
# the run's id from its report: a refused run of the same second may
# sort after it among the journals
run1=$(python3 -c "import json,sys
print(json.load(open(sys.argv[1]))['run_id'])" "$work/ag.json")
eq "every other file unchanged" "$others" \
    "$(t98_files "$k2" "$c2" "$k3" "$c3")"
eq "the six server files unchanged" "$srv" "$(server_snapshot)"
for id in 2 3; do
	k=$(agent_file "$id" key)
	c=$(agent_file "$id" crt)
	old=old$id
	not "agent$id: new key and certificate" test \
	    "$(sha "$k") $(sha "$c")" = "${!old}"
	eq "agent$id: backups hold the originals" "${!old}" \
	    "$(sha "$(bak "$k" "$run1")") $(sha "$(bak "$c" "$run1")")"
	ok "agent$id: signed by the unchanged CA" of_ca "$id"
	eq "agent$id: CN" "agent$(sed -n 's/^agent_id *= *//p' \
	    "$(agent_dir "$id")/etc/agent.cfg")" "$(cn_of "$id")"
	ok "agent$id: the key matches" key_matches "$id"
	ok "agent$id: logs in with it" logs_in "$id"
	ok "agent$id: running" grep -qx running "$(agent_dir "$id")/agent.state"
	eq "agent$id: key mode" 600 "$(stat -c %a "$k")"
done
ok "every agent logs in" all_agents_login
ok "no CA key on local disk" sh -c "! grep -rl 'PRIVATE KEY' '$E.state'"
ok "report: ok" python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
assert r['result'] == 'ok' and r['exit_status'] == 0, r" "$work/ag.json"
ok "the journal names the command" jhas command agents "$run1"
ok "no lock left" test ! -e "$D/pemrotate.lock"
ok "no temporary files left" test -z "$(find "$E/hosts" "$D" \
    -name '.*pemrotate*')"

begin "agents --expiring-within picks the short-lived certificate only"
k4=$(agent_file 4 key); c4=$(agent_file 4 crt)
sh -c "openssl x509 -in '$c4' -x509toreq -signkey '$k4' \
    -out '$work/ag4.csr' && openssl x509 -req -in '$work/ag4.csr' \
    -CA '$D/ca_certificate.crt' -CAkey '$D/ca_key.key' -days 3 \
    -set_serial 0x$(openssl rand -hex 8) -out '$work/ag4.crt' &&
    cat '$work/ag4.crt' >'$c4'"
ok "agent4 logs in with its short-lived certificate" logs_in 4
short=$(sha "$c4")
others=$(t98_files "$k4" "$c4")
t98_run -y --expiring-within 10
eq "exit status" 0 "$rc"
# 3 days from its issue: 3 if the run starts in that second, else 2
ok "says agent4 is due" grep -Eq "agent4.*expires in [23] day.*to be renewed" \
    "$E.out"
ok "says agent5 is left alone" grep -q "agent5.*left alone" "$E.out"
eq "every other file unchanged" "$others" "$(t98_files "$k4" "$c4")"
not "agent4: new certificate" test "$(sha "$c4")" = "$short"
ok "agent4: valid for long now" openssl x509 -in "$c4" -noout \
    -checkend $((300 * 86400))
ok "agent4: logs in" logs_in 4
t98_run -y --expiring-within 10 --agent agent5
eq "nothing due: exit" 0 "$rc"
ok "says so" grep -q "no agent to renew" "$E.out"

begin "agents --keygen remote: the key made on the host"
k4=$(agent_file 4 key); c4=$(agent_file 4 crt)
old4="$(sha "$k4") $(sha "$c4")"
others=$(t98_files "$k4" "$c4")
t98_run -y --agent agent4 --keygen remote
eq "exit status" 0 "$rc"
not "agent4: new key and certificate" test "$(sha "$k4") $(sha "$c4")" = \
    "$old4"
ok "agent4: the key matches" key_matches 4
ok "agent4: signed by the CA" of_ca 4
ok "agent4: logs in" logs_in 4
eq "every other file unchanged" "$others" "$(t98_files "$k4" "$c4")"
ok "no key directory left" test -z "$(find "$(dirname "$k4")" -mindepth 1 \
    -type d)"

begin "agents: a failed verification puts the originals back"
k5=$(agent_file 5 key); c5=$(agent_file 5 crt)
old5="$(sha "$k5") $(sha "$c5")"
awk '/^agent5[ \t]/ { sub(/pem_agent_check_cmd=.[^'"'"']*./,
    "pem_agent_check_cmd=false") } { print }' "$work/ag-check.ini" \
    >"$work/ag-fail.ini"
ok "the failing inventory differs" sh -c "! cmp -s '$work/ag-check.ini' \
    '$work/ag-fail.ini'"
INV=$work/ag-fail.ini t98_run -y --agent agent5 --agent agent2
eq "exit status" 1 "$rc"
eq "agent5: originals back" "$old5" "$(sha "$k5") $(sha "$c5")"
ok "agent5: running" grep -qx running "$(agent_dir 5)/agent.state"
ok "agent5: logs in" logs_in 5
ok "agent2: renewed anyway" logs_in 2
ok "names agent5's failure" grep -q "agent5.*cannot log in" "$E.out"
ok "every agent logs in" all_agents_login
ok "no lock left" test ! -e "$D/pemrotate.lock"

estate_down "$E"

E=$work/lock98
estates+=("$E")
estate_up "$E" 3 --locked-down
D=$E/pg/data

begin "agents on a locked-down estate: through the bastion, with sudo"
k2=$(agent_file 2 key); c2=$(agent_file 2 crt)
old2="$(sha "$k2") $(sha "$c2")"
own2="$(stat -c %U:%G "$k2") $(stat -c %U:%G "$c2")"
others=$(t98_files "$k2" "$c2")
INV=$ESTATE_LOCKED_INVENTORY KH=none WHERE=ctl \
    t98_run -y --agent agent2 --ssh-config "$ESTATE_SSH_CONFIG"
eq "exit status" 0 "$rc"
not "agent2: new key and certificate" test "$(sha "$k2") $(sha "$c2")" = \
    "$old2"
eq "agent2: owners kept" "$own2" \
    "$(stat -c %U:%G "$k2") $(stat -c %U:%G "$c2")"
eq "agent2: key mode" 600 "$(stat -c %a "$k2")"
ok "agent2: signed by the CA" of_ca 2
ok "agent2: the key matches" key_matches 2
ok "agent2: logs in" logs_in 2
eq "every other file unchanged" "$others" "$(t98_files "$k2" "$c2")"
ok "every agent logs in" all_agents_login
estate_down "$E"
