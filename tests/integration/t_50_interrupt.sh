# Interrupted runs: SIGINT must end a run cleanly (no new host started,
# stopped agents started again on their old certificates, result
# "interrupted"); after SIGINT or SIGKILL "pemrotate resume" must bring the
# estate to the finished state.

E=$work/d
estates+=("$E")
estate_up "$E" 10
D=$E/pg/data

# Agents that take a second to stop and to start, so the phases last long
# enough to be hit; the restart command also takes 4 s in restart-slow.ini.
sed -e "s|pem_agent_start_cmd='|pem_agent_start_cmd='sleep 1; |" \
    -e "s|pem_agent_stop_cmd='|pem_agent_stop_cmd='sleep 1; |" \
    "$ESTATE_INVENTORY" >"$work/slow.ini"
sed "s|^pem_server_restart_cmd='|pem_server_restart_cmd='sleep 4; |" \
    "$ESTATE_INVENTORY" >"$work/restart-slow.ini"

begin "slow inventories"
eq "every stop and start command sleeps" $((2 * ESTATE_N)) \
    "$(grep -o "_cmd='sleep 1; " "$work/slow.ini" | wc -l)"
ok "the restart command sleeps" grep -q "^pem_server_restart_cmd='sleep 4; " \
    "$work/restart-slow.ini"

# A slow rotation (-j 2) given sig once two agents are pushed; t50_orig
# holds the certificates before it, t50_run its run.
interrupt_pushing() {
	t50_orig=$(agent_crts)
	INV=$work/slow.ini bg_rotate -y -j 2
	ok "two agents pushed within 60 s" bg_wait_journal '^pushed	' 2
	bg_kill "$1" || true
	bg_wait
	t50_run=$(last_run)
}

# ---- 1: SIGINT while pushing ------------------------------------------------

begin "SIGINT while pushing: the run ends, stopped agents run again"
interrupt_pushing INT
eq "exit status" 1 "$rc"
eq "journal result" interrupted "$(jlast result)"
eq "journal exit" 1 "$(jlast exit)"
ok "says it was interrupted" grep -q "interrupted" "$E.out"
ok "names the command that finishes it" grep -q "pemrotate resume $t50_run" \
    "$E.out"
t50_pushed=$(grep -c '^pushed	' "$(journal_of)")
ok "some agent was not pushed (no new host started)" \
    test "$t50_pushed" -lt "$ESTATE_N"
ok "at most -j agents were in flight after the second push" \
    test "$t50_pushed" -le 4
for id in $(seq 1 "$ESTATE_N"); do
	c=$(sha "$(agent_file "$id" crt)")
	if jhas pushed "$(agent_name "$id")"; then
		not "agent$id (pushed) has a new certificate" \
		    test "$(sed -n "${id}p" <<<"$t50_orig")" = "$c"
	else
		eq "agent$id (not pushed) kept its certificate" \
		    "$(sed -n "${id}p" <<<"$t50_orig")" "$c"
		ok "agent$id was started again" jhas started "$(agent_name "$id")"
	fi
	ok "agent$id runs on its certificate" sh -c "grep -qx running \
	    '$(agent_dir "$id")/agent.state' && tail -n 1 \
	    '$(agent_dir "$id")/agent.log' | grep -q 'start ok $c'"
done
ok "every agent logs in" all_agents_login
eq "root.crt trusts old and new CA" 2 "$(count_certs "$D/root.crt")"
eq "root.crl holds a CRL per CA" 2 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
ok "the lock is kept" test -e "$D/pemrotate.lock"
eq "the CA expiry job is enabled again" t \
    "$(job_enabled 'Check CA certificate expiry')"

begin "SIGINT while pushing: resume finishes"
run_resume -y
eq "exit status" 0 "$rc"
eq "same run resumed" "$t50_run" "$(last_run)"
eq "journal result" ok "$(jlast result)"
finished "$t50_orig"

# ---- 2: SIGINT while stopping: nothing changed ------------------------------

begin "SIGINT while stopping agents: nothing changed"
t50_orig=$(agent_crts)
t50_server=$(server_snapshot)
t50_before=$(snapshot)
INV=$work/slow.ini bg_rotate -y -j 2
ok "an agent stopped within 60 s" bg_wait_journal '^stopped	'
bg_kill INT || true
bg_wait
eq "exit status" 2 "$rc"
eq "journal result" interrupted "$(jlast result)"
not "the server phase never began" grep -q '^server	' "$(journal_of)"
eq "server files unchanged" "$t50_server" "$(server_snapshot)"
eq "no file changed" "$t50_before" "$(snapshot)"
ok "every agent runs" all_running
ok "every agent logs in" all_agents_login
ok "no lock left" test ! -e "$D/pemrotate.lock"
eq "the CA expiry job is enabled again" t \
    "$(job_enabled 'Check CA certificate expiry')"

begin "SIGINT while stopping agents: a new run works"
run_pemrotate -y
eq "exit status" 0 "$rc"
if [ "$rc" -ne 0 ] && grep -q "holds.*pemrotate.lock" "$E.out"; then
	# refused because of the lock left above: finish that run instead,
	# so that the cases below test what they are about
	echo "  (a lock was left behind: resuming to go on)"
	run_resume -y
fi
eq "journal result" ok "$(jlast result)"
finished "$t50_orig"

# ---- 3: SIGKILL while pushing -----------------------------------------------

begin "SIGKILL while pushing: resume finishes"
interrupt_pushing KILL
eq "killed" 137 "$rc"
eq "no result in the journal" "" "$(jlast result)"
ok "the lock is kept" test -e "$D/pemrotate.lock"
run_resume -y
eq "exit status" 0 "$rc"
eq "same run resumed" "$t50_run" "$(last_run)"
eq "journal result" ok "$(jlast result)"
finished "$t50_orig"

# ---- 4: SIGKILL while the restart command runs -------------------------------

begin "SIGKILL during the PostgreSQL restart: resume finishes"
t50_orig=$(agent_crts)
INV=$work/restart-slow.ini bg_rotate -y -j 2
ok "server files installed within 60 s" bg_wait_journal '^server	installed$'
sleep 1
bg_kill KILL || true
bg_wait
t50_run=$(last_run)
eq "killed" 137 "$rc"
not "server not done" jhas server "done"
ok "the lock is kept" test -e "$D/pemrotate.lock"
# The restart command runs on without pemrotate (its SSH channel closed):
# let it end, so that it does not restart PostgreSQL under the resume.
t50_end=$((SECONDS + 60))
while pgrep -f "sleep 4; /usr/sbin/runuser" >/dev/null &&
    [ "$SECONDS" -lt "$t50_end" ]; do
	sleep 0.2
done
not "the orphaned restart command ended" pgrep -f "sleep 4; /usr/sbin/runuser"
ok "PostgreSQL accepts connections after it" in_ns psql "$PEMDB" -XAtqc \
    'select 1'
run_resume -y
eq "exit status" 0 "$rc"
eq "same run resumed" "$t50_run" "$(last_run)"
eq "journal result" ok "$(jlast result)"
finished "$t50_orig"
eq "served = server.crt" \
    "$(openssl x509 -in "$D/server.crt" -noout -fingerprint -sha256)" \
    "$(served_fp)"

# ---- 5: SIGKILL while stopping: resume redoes the rotation --------------------

begin "SIGKILL while stopping agents: resume redoes the rotation"
t50_orig=$(agent_crts)
INV=$work/slow.ini bg_rotate -y -j 2
ok "an agent stopped within 60 s" bg_wait_journal '^stopped	'
bg_kill KILL || true
bg_wait
t50_run=$(last_run)
eq "killed" 137 "$rc"
not "the server phase never began" grep -q '^server	' "$(journal_of)"
ok "the lock is kept" test -e "$D/pemrotate.lock"
run_resume -y
eq "exit status" 0 "$rc"
eq "same run resumed" "$t50_run" "$(last_run)"
eq "journal result" ok "$(jlast result)"
finished "$t50_orig"
