# The day-two commands on a locked-down estate (estate.sh --locked-down:
# no root logins, the operator pemops becomes root with sudo, every host
# and the PEM database through a bastion), as rotate works there (t_80):
# backups, rollback --agents, revoke, backups --prune and finalize each do
# what they do with root logins (t_95..t_99), and every file written
# through sudo has the owner, group and mode a root login leaves.

E=$work/lock9a
estates+=("$E")
estate_up "$E" 4 --locked-down
D=$E/pg/data
L9A=$ESTATE_LOCKED_INVENTORY

# t9a_run ARGS...: pemrotate ${PEMCMD:-rotate} through the bastion as
# pemops with sudo, with the inventory ${LINV:-the locked-down one}.
t9a_run() {
	INV=${LINV:-$L9A} KH=none WHERE=ctl run_pemrotate "$@" \
	    --ssh-config "$ESTATE_SSH_CONFIG"
}

t9a_hex() {	# t9a_hex [FILE]: sha256 fingerprint, bare hex (served: none)
	if [ $# -eq 0 ]; then
		served_fp
	else
		openssl x509 -in "$1" -noout -fingerprint -sha256
	fi | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# Every server and agent file with its backups: path (run ids and tokens
# left out), owner, group, mode.
t9a_facts() {
	local id
	{
		stat -c '%n %U %G %a' "$D/"*.crt "$D/"*.key "$D/"*.crl \
		    "$D/"*.pemrotate-* 2>/dev/null
		for id in $(seq 1 "$ESTATE_N"); do
			stat -c '%n %U %G %a' "$(agent_dir "$id")/root/.pem/"*
		done
	} | sed -e "s|^$E/||" -e 's/\.pemrotate-[^ ]*/.pemrotate-RUN/' |
	    sort -u
}

# The same, one line per file, the backups' names kept.
t9a_stats() {
	local id
	{
		stat -c '%n %U %G %a' "$D/"*.crt "$D/"*.key "$D/"*.crl \
		    "$D/"*.pemrotate-* 2>/dev/null
		for id in $(seq 1 "$ESTATE_N"); do
			stat -c '%n %U %G %a' "$(agent_dir "$id")/root/.pem/"*
		done
	} | sort
}

# t9a_owned_as_live: each backup has its live file's owner and group;
# nothing under the data directory or the hosts belongs to pemops.
t9a_owned_as_live() {
	local f b
	for b in "$D/"*.pemrotate-* "$E"/hosts/*/root/.pem/*.pemrotate-*; do
		[ -e "$b" ] || continue
		f=${b%.pemrotate-*}
		[ "$(stat -c '%U %G' "$b")" = "$(stat -c '%U %G' "$f")" ] ||
		    return 1
	done
	[ -z "$(find "$D" "$E/hosts" -user pemops 2>/dev/null)" ]
}

# t9a_bak_runs DIR: the distinct run ids of the backups in DIR.
t9a_bak_runs() {
	find "$1" -maxdepth 1 -name '*.pemrotate-*' -printf '%f\n' |
	    sed 's/.*\.pemrotate-//; s/-[0-9a-f]\{12\}$//' | sort -u
}

t9a_logs_in() {
	bash "$ESTATE" check-agent "$E" "$1"
}

begin "locked down: rotate twice through the bastion, as pemops with sudo"
# what a root-login rotation leaves (t_80 compares the two): every file
# written anew with its owner and group kept, mode 0600 (docs/rotation.md)
facts0=$(t9a_facts | sed 's/ [0-7]*$/ 600/')
t9a_run -y
eq "rotation 1 exit status" 0 "$rc"
run1=$(last_run)
after1=$(t9a_hex)
eq "rotation 1: the server serves its server.crt" "$(t9a_hex "$D/server.crt")" \
    "$after1"
snap1=$(server_snapshot)
crts1=$(agent_crts)
t9a_run -y
eq "rotation 2 exit status" 0 "$rc"
run2=$(last_run)
not "two runs, two ids" test "$run1" = "$run2"
not "rotation 2 changed the served certificate" test "$after1" = "$(t9a_hex)"
eq "live files: owners and modes as before the rotations" "$facts0" \
    "$(t9a_facts | grep -v '\.pemrotate-RUN ')"
ok "backups owned as their files, nothing owned by pemops" t9a_owned_as_live
eq "agent key files root 0600" "$(printf 'root root 600\n%.0s' \
    $(seq 1 "$ESTATE_N"))" "$(for id in $(seq 1 "$ESTATE_N"); do
	stat -c '%U %G %a' "$(agent_file "$id" key)"; done)"
ok "no root login was accepted" sh -c "! grep -q \
    'Accepted publickey for \\(root\\|pemrt\\)' '$E/sshd/log'"

begin "locked down: backups lists the two sets"
PEMCMD=backups t9a_run
eq "exit status" 0 "$rc"
eq "two sets listed" 2 "$(grep -c '^backup set ' "$E.out")"
for r in "$run1" "$run2"; do
	ok "set $r listed" grep -q "^backup set $r " "$E.out"
	ok "set $r: agent3's key backup" grep -qF \
	    "$(bak "$(agent_file 3 key)" "$r")" "$E.out"
done
eq "each set on every host" $((2 * ESTATE_N)) "$(grep -c '^  host ' "$E.out")"

begin "locked down: rollback --backup <rotation 2's set> --agents"
PEMCMD=rollback t9a_run --backup "$run2" --agents
eq "exit status" 0 "$rc"
eq "the six server files are rotation 1's" "$snap1" "$(server_snapshot)"
eq "the agents' certificates are rotation 1's" "$crts1" "$(agent_crts)"
eq "PostgreSQL serves rotation 1's certificate" "$after1" "$(t9a_hex)"
ok "every agent running" all_running
ok "every agent logs in" all_agents_login
ok "no lock left" test ! -e "$D/pemrotate.lock"
eq "live files: owners and modes kept" "$facts0" \
    "$(t9a_facts | grep -v '\.pemrotate-RUN ')"
ok "backups owned as their files, nothing owned by pemops" t9a_owned_as_live

begin "locked down: revoke --agent agent2"
st="pem_agent_status_cmd='([^ ]+) status ([^']+)'"
sed -E "s#$st#& pem_agent_check_cmd='\\1 check \\2'#" "$L9A" \
    >"$work/lock9a-check.ini"
ok "check command in the inventory" grep -q "pem_agent_check_cmd=" \
    "$work/lock9a-check.ini"
ok "agent2 logs in before" t9a_logs_in 2
crl0=$(sha "$D/root.crl")
LINV=$work/lock9a-check.ini PEMCMD=revoke t9a_run -y --agent agent2
eq "exit status" 0 "$rc"
rvrun=$(last_run)
s2=$(openssl x509 -in "$(agent_file 2 crt)" -noout -serial | sed 's/.*=//')
ok "agent2 listed in root.crl" sh -c "openssl crl -in '$D/root.crl' \
    -noout -text | grep -q 'Serial Number: $s2'"
ok "the CRL is signed by the CA" sh -c "openssl crl -in '$D/root.crl' \
    -CAfile '$D/ca_certificate.crt' -noout 2>&1 | grep -q 'verify OK'"
not "root.crl changed" test "$crl0" = "$(sha "$D/root.crl")"
not "agent2's certificate is refused" t9a_logs_in 2
ok "says its login is refused" grep -q "agent2.*login is refused" "$E.out"
for id in 1 3 4; do
	ok "agent$id still logs in" t9a_logs_in "$id"
done
ok "no lock left" test ! -e "$D/pemrotate.lock"
eq "live files: owners and modes kept" "$facts0" \
    "$(t9a_facts | grep -v '\.pemrotate-RUN ')"
ok "backups owned as their files, nothing owned by pemops" t9a_owned_as_live

begin "locked down: backups --prune --keep 1"
PEMCMD=backups t9a_run
eq "listing: exit status" 0 "$rc"
nsets=$(grep -c '^backup set ' "$E.out")
ok "more than one set before ($nsets)" test "$nsets" -gt 1
stats0=$(t9a_stats)
PEMCMD=backups t9a_run --prune --keep 1
eq "exit status" 0 "$rc"
# the server host holds the data directory and agent1's files: the newest
# whole set (rotation 2's, all six server files and agent1's two) stays,
# and so does the revoke's (root.crl alone), newer than it
eq "the server host keeps rotation 2's set and the revoke's" \
    "$(printf '%s\n' "$run2" "$rvrun" | sort)" "$( { t9a_bak_runs "$D";
    t9a_bak_runs "$(dirname "$(agent_file 1 key)")"; } | sort -u)"
eq "rotation 2's server set is whole" 6 \
    "$(find "$D" -maxdepth 1 -name "*.pemrotate-$run2-*" | wc -l)"
for id in $(seq 2 "$ESTATE_N"); do
	eq "agent$id keeps one set" 1 \
	    "$(t9a_bak_runs "$(dirname "$(agent_file "$id" key)")" | wc -l)"
done
kept=$( (t9a_bak_runs "$D"; for id in $(seq 1 "$ESTATE_N"); do
	t9a_bak_runs "$(dirname "$(agent_file "$id" key)")"; done) | sort -u)
echo "  kept: $(tr "\n" " " <<<"$kept")(rotations $run1 $run2, revoke $rvrun)"
eq "what remains: the same owners and modes as before" "" \
    "$(comm -13 <(echo "$stats0") <(t9a_stats))"
ok "something was removed" test "$(t9a_stats | wc -l)" -lt \
    "$(echo "$stats0" | wc -l)"
eq "agent key files and their backups root 0600" "" \
    "$(for id in $(seq 1 "$ESTATE_N"); do
	stat -c '%U %G %a' "$(agent_file "$id" key)" \
	    "$(agent_file "$id" key)".pemrotate-*; done | grep -vx 'root root 600')"
ok "agents 1, 3 and 4 still log in" sh -c "bash '$ESTATE' check-agent \
    '$E' 1 && bash '$ESTATE' check-agent '$E' 3 && \
    bash '$ESTATE' check-agent '$E' 4"
PEMCMD=backups t9a_run
eq "listing after: exit status" 0 "$rc"
eq "the sets kept are the ones listed" "$(wc -l <<<"$kept")" \
    "$(grep -c '^backup set ' "$E.out")"
for r in $kept; do
	ok "set $r listed" grep -q "^backup set $r " "$E.out"
done

begin "locked down: a rotation where agent4 fails to start once"
old4=$(sha "$(agent_file 4 crt)")
flag=$work/lock9a-agent4-fails
touch "$flag"
fail4='if [ -e FLAG ]; then rm -f FLAG; echo agent4 refuses to start >\&2; '
fail4="${fail4//FLAG/$flag}exit 1; fi; "
sed "/^agent4 /s|pem_agent_start_cmd='|&$fail4|" "$L9A" \
    >"$work/lock9a-agent4-fails.ini"
ok "inventory rewritten" grep -q "agent4 refuses to start" \
    "$work/lock9a-agent4-fails.ini"
LINV=$work/lock9a-agent4-fails.ini t9a_run -y
eq "exit status" 1 "$rc"
frun=$(last_run)
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
eq "agent4 kept its old certificate" "$old4" "$(sha "$(agent_file 4 crt)")"
ok "the flag was consumed (the start ran)" test ! -e "$flag"

begin "locked down: finalize refuses while agent4 is on the old CA"
before=$(snapshot)
PEMCMD=finalize t9a_run -y
eq "exit status" 2 "$rc"
ok "names agent4" grep -q "agent4 .*(agent id 4: " "$E.out"
not "names no other agent" grep -Eq "(agent[23]|pemserver) \(agent id" \
    "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
eq "root.crt still holds both CAs" 2 "$(count_certs "$D/root.crt")"

begin "locked down: finalize once agent4 has a new-CA certificate"
k4=$(agent_file 4 key)
c4=$(agent_file 4 crt)
subj=$(openssl x509 -in "$c4" -noout -subject -nameopt compat |
    sed 's/^subject=//')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$work/lock9a4.key" 2>/dev/null
openssl req -new -key "$work/lock9a4.key" -subj "$subj" \
    -out "$work/lock9a4.csr"
openssl x509 -req -in "$work/lock9a4.csr" -CA "$D/ca_certificate.crt" \
    -CAkey "$D/ca_key.key" -set_serial 0x9a11 -days 30 -sha256 \
    -out "$work/lock9a4.crt" 2>/dev/null
cat "$work/lock9a4.key" >"$k4"
cat "$work/lock9a4.crt" >"$c4"
rm -f "$work/lock9a4.key"
ok "agent4 logs in with it" t9a_logs_in 4
PEMCMD=finalize t9a_run -y
eq "exit status" 0 "$rc"
eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
ok "root.crt = ca_certificate.crt" cmp -s "$D/root.crt" \
    "$D/ca_certificate.crt"
eq "root.crl holds one CRL" 1 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
ok "every agent logs in" all_agents_login
ok "the lock is gone" test ! -e "$D/pemrotate.lock"
eq "the run's journal: finalized" yes "$(jlast finalized "$frun")"
eq "live files: owners and modes kept" "$facts0" \
    "$(t9a_facts | grep -v '\.pemrotate-RUN ')"
ok "backups owned as their files, nothing owned by pemops" t9a_owned_as_live
ok "no root login was accepted" sh -c "! grep -q \
    'Accepted publickey for \\(root\\|pemrt\\)' '$E/sshd/log'"
estate_down "$E"
