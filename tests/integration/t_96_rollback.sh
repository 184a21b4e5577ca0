# pemrotate rollback: without --backup the sets listed; --backup RUN puts
# back the server files RUN kept and PostgreSQL serves them again, with
# --agents the agents' files too; a set that does not exist is refused with
# nothing changed.

# served_fp as a bare lowercase hex fingerprint; fp_of FILE likewise.
served_hex() {
	served_fp | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
fp_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

E=$work/rollback96
estates+=("$E")
estate_up "$E" 3
D=$E/pg/data

begin "rotate twice; the sets are listed"
run_pemrotate -y
eq "rotation 1 exit status" 0 "$rc"
run1=$(last_run)
after1=$(served_hex)
eq "after rotation 1 the server serves its server.crt" "$(fp_of "$D/server.crt")" \
    "$after1"
snap1=$(server_snapshot)
crts1=$(agent_crts)
run_pemrotate -y
eq "rotation 2 exit status" 0 "$rc"
run2=$(last_run)
not "rotation 2 changed the served certificate" test "$after1" = \
    "$(served_hex)"
PEMCMD=rollback run_pemrotate
eq "listing: exit status" 0 "$rc"
eq "listing: two sets" 2 "$(grep -c '^backup set ' "$E.out")"
ok "listing: set 2 holds rotation 1's CA" sh -c "grep -A1 '^backup set $run2 ' \
    '$E.out' | grep -q 'sha256 $(fp_of "$(bak "$D/ca_certificate.crt" "$run2")")'"

begin "a bad --backup: exit 2, nothing changed"
snap=$(server_snapshot)
crts=$(agent_crts)
served=$(served_hex)
PEMCMD=rollback run_pemrotate --backup 20000101T000000Z-dead
eq "exit status" 2 "$rc"
ok "names the set" grep -q "no backup set 20000101T000000Z-dead" "$E.out"
PEMCMD=rollback run_pemrotate --agents
eq "--agents without --backup: exit status" 2 "$rc"
eq "server files unchanged" "$snap" "$(server_snapshot)"
eq "agents unchanged" "$crts" "$(agent_crts)"
eq "served certificate unchanged" "$served" "$(served_hex)"
ok "no lock left" test ! -e "$D/pemrotate.lock"

begin "roll back to the set rotation 2 kept: rotation 1's files, agents too"
PEMCMD=rollback run_pemrotate --backup "$run2" --agents
eq "exit status" 0 "$rc"
eq "PostgreSQL serves the certificate it had after rotation 1" "$after1" \
    "$(served_hex)"
eq "the six server files are rotation 1's" "$snap1" "$(server_snapshot)"
eq "the agents' certificates are rotation 1's" "$crts1" "$(agent_crts)"
ok "the backups stay" test -e "$(bak "$D/server.key" "$run2")"
ok "every agent running" all_running
ok "every agent logs in" all_agents_login
ok "no lock left" test ! -e "$D/pemrotate.lock"

begin "roll the server alone back to the set rotation 1 kept"
orig_fp=$(fp_of "$(bak "$D/server.crt" "$run1")")
PEMCMD=rollback run_pemrotate --backup "$run1"
eq "exit status" 0 "$rc"
eq "PostgreSQL serves the original certificate" "$orig_fp" "$(served_hex)"
eq "agents' files untouched" "$crts1" "$(agent_crts)"
