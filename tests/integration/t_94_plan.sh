# pemrotate plan: rotate's preflight and, per host, what rotate would do;
# it changes nothing: no file (content, owner, mode, mtime) under any host
# or in the data directory, no agent stopped, no database row, no lock or
# journal; on an ordinary and on a locked-down estate.

# Every file and directory under the hosts, and the data directory's own
# entries (PostgreSQL's subdirectories change by themselves): path, owner,
# mode, mtime, and the sha256 of a regular file.
estate_facts() {
	local D=$E/pg/data
	{
		find "$E/hosts" -printf '%p %u %g %m %T@ %y\n'
		find "$D" -maxdepth 1 \( -type f -o -path "$D" \) \
		    -printf '%p %u %g %m %T@ %y\n'
		find "$E/hosts" "$D" -maxdepth 1 -type f -exec sha256sum {} + \
		    2>/dev/null
		find "$E/hosts" -mindepth 2 -type f -exec sha256sum {} +
	} | sort
}

# The rows pemrotate reads or writes.
db_rows() {
	in_ns psql "$PEMDB" -XAtqc "select * from pem.agent order by id" &&
	    in_ns psql "$PEMDB" -XAtqc "select * from pem.job order by 1"
}

# plan_unchanged: what estate_facts, db_rows, the agents' certificates and
# states were before ($facts, $rows, $crts) they are now.
plan_unchanged() {
	local now
	now=$(estate_facts)
	eq "no file changed" "$facts" "$now"
	[ "$facts" = "$now" ] || diff <(echo "$facts") <(echo "$now") | head >&2
	eq "no database row changed" "$rows" "$(db_rows)"
	eq "agents on the same certificates" "$crts" "$(agent_crts)"
	ok "every agent still running" all_running
	ok "every agent logs in" all_agents_login
	ok "no lock" test ! -e "$E/pg/data/pemrotate.lock"
	eq "no journal" "" "$(ls "$E.state" 2>/dev/null)"
}

E=$work/plan94
estates+=("$E")
estate_up "$E" 4
D=$E/pg/data

begin "plan: the whole preflight and every host's detail, nothing changed"
facts=$(estate_facts)
rows=$(db_rows)
crts=$(agent_crts)
PEMCMD=plan run_pemrotate
eq "exit status" 0 "$rc"
ok "the summary" grep -q "pemrotate will rotate" "$E.out"
ok "the server's six files" sh -c "for f in $server_files; do grep -q \
    \"replace   $D/\$f \" '$E.out' || exit 1; done"
ok "where the originals go" grep -q \
    "original kept as $D/server.key.pemrotate-" "$E.out"
ok "the restart command" grep -Eq "^ +restart +.*pg_ctl" "$E.out"
ok "the reload" grep -q "reload    pg_reload_conf()" "$E.out"
ok "the key type and validity" grep -Eq \
    "new +CA .* \(ec:P-256 key, 3650 days\)" "$E.out"
for id in $(seq 1 "$ESTATE_N"); do
	ok "agent$id: its key" grep -q "replace   $(agent_file "$id" key) (new \
ec:P-256 key, made here;" "$E.out"
	ok "agent$id: its certificate" grep -q "replace   $(agent_file "$id" \
crt) (CN=agent$id, 3650 days;" "$E.out"
done
eq "a stop command per agent" "$ESTATE_N" "$(grep -Ec '^ +stop +' "$E.out")"
eq "a start command per agent" "$ESTATE_N" \
    "$(grep -Ec '^ +start +' "$E.out")"
plan_unchanged

begin "plan with other options shows them"
PEMCMD=plan run_pemrotate --days 90 --keygen remote --no-overlap
eq "exit status" 0 "$rc"
ok "validity" grep -q "CN=agent2, 90 days" "$E.out"
ok "keys made on the hosts" grep -q "made on the host" "$E.out"
not "no finalize with --no-overlap" grep -q "finalize " "$E.out"
plan_unchanged

begin "plan stops where rotate's preflight would: exit 2, nothing changed"
grep -v '^agent3 ' "$ESTATE_INVENTORY" >"$work/t94-missing.ini"
INV=$work/t94-missing.ini PEMCMD=plan run_pemrotate
eq "exit status" 2 "$rc"
ok "names the agent" grep -q "have no host in $work/t94-missing.ini: 3" \
    "$E.out"
not "no per-host plan" grep -q "per host, in order" "$E.out"
plan_unchanged

estate_down "$E"

E=$work/lock94
estates+=("$E")
estate_up "$E" 3 --locked-down

begin "plan on a locked-down estate: through the bastion, with sudo"
facts=$(estate_facts)
rows=$(db_rows)
crts=$(agent_crts)
INV=$ESTATE_LOCKED_INVENTORY KH=none WHERE=ctl PEMCMD=plan \
    run_pemrotate --ssh-config "$ESTATE_SSH_CONFIG"
eq "exit status" 0 "$rc"
ok "the server's files" grep -q "replace   $E/pg/data/root.crt " "$E.out"
eq "every agent's plan" "$ESTATE_N" "$(grep -Ec '^ +stop +' "$E.out")"
plan_unchanged
estate_down "$E"
