# pemrotate backups: the backup sets of three rotations listed on every
# host; --prune --keep 1 leaves the newest set alone on each host, the
# pruned key backups overwritten with zeros before removal; --keep 0 and
# stray options refused, nothing changed.

# The backup files of every host, one a line, sorted.
bak_files() {
	find "$E/pg/data" "$E/hosts" -name '*.pemrotate-*' -printf '%p\n' |
	    sort
}

# bak_runs DIR: the distinct run ids of the backups in DIR.
bak_runs() {
	find "$1" -maxdepth 1 -name '*.pemrotate-*' -printf '%f\n' |
	    sed 's/.*\.pemrotate-//; s/-[0-9a-f]\{12\}$//' | sort -u
}

E=$work/backups95
estates+=("$E")
estate_up "$E" 3
D=$E/pg/data

begin "three rotations leave three backup sets"
runs=()
for i in 1 2 3; do
	run_pemrotate -y
	eq "rotation $i exit status" 0 "$rc"
	runs+=("$(last_run)")
done
PEMCMD=backups run_pemrotate
eq "exit status" 0 "$rc"
eq "three sets listed" 3 "$(grep -c '^backup set ' "$E.out")"
for r in "${runs[@]}"; do
	ok "set $r listed, dated from its journal" grep -q \
	    "^backup set $r  .* UTC (run journal)" "$E.out"
	for f in $server_files; do
		ok "set $r: $f" grep -qF "$(bak "$D/$f" "$r")" "$E.out"
	done
	for id in $(seq 1 "$ESTATE_N"); do
		ok "set $r: agent$id key" grep -qF \
		    "$(bak "$(agent_file "$id" key)" "$r")" "$E.out"
	done
done
eq "each set on every host (the server host is agent1)" $((3 * ESTATE_N)) \
    "$(grep -c '^  host ' "$E.out")"
# the CA of set 2 is the CA rotation 1 made: its ca_certificate.crt backup
fp=$(openssl x509 -in "$(bak "$D/ca_certificate.crt" "${runs[1]}")" \
    -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
serial=$(openssl x509 -in "$(bak "$D/ca_certificate.crt" "${runs[1]}")" \
    -noout -serial | sed 's/.*=//')
ok "set 2's CA: sha256 and serial" sh -c "grep -A1 '^backup set \
${runs[1]} ' '$E.out' | grep -q 'serial $serial  sha256 $fp'"
ok "its subject" sh -c "grep -A1 '^backup set ${runs[1]} ' '$E.out' |
    grep -q 'CA  /.*CN=PEM'"
for id in $(seq 1 "$ESTATE_N"); do
	eq "agent$id: three sets on disk" 3 \
	    "$(bak_runs "$(dirname "$(agent_file "$id" key)")" | wc -l)"
done

begin "a set whose journal is gone is dated by its files"
mv "$E.state/${runs[0]}.journal" "$work/j95"
PEMCMD=backups run_pemrotate
eq "exit status" 0 "$rc"
ok "set 1 dated from its files" grep -q \
    "^backup set ${runs[0]}  .* UTC (file times)" "$E.out"
mv "$work/j95" "$E.state/${runs[0]}.journal"

begin "--keep 0 and misplaced options are refused, nothing changed"
before=$(bak_files)
PEMCMD=backups run_pemrotate --prune --keep 0
eq "--keep 0: exit status" 2 "$rc"
ok "--keep 0: says why" grep -q "keep at least 1" "$E.out"
PEMCMD=backups run_pemrotate --prune
eq "--prune without --keep: exit status" 2 "$rc"
PEMCMD=backups run_pemrotate --keep 1
eq "--keep without --prune: exit status" 2 "$rc"
PEMCMD=backups run_pemrotate --backup "${runs[0]}"
eq "--backup: exit status" 2 "$rc"
eq "no backup file changed" "$before" "$(bak_files)"

begin "--prune --keep 1 leaves the newest set on each host"
old_key=$(bak "$D/server.key" "${runs[0]}")
old_ca_key=$(bak "$D/ca_key.key" "${runs[1]}")
old_agent_key=$(bak "$(agent_file 2 key)" "${runs[0]}")
keep_sha=$(sha "$(bak "$D/server.key" "${runs[2]}")")
# hold the pruned key backups open: their content after the prune
exec 7<"$old_key" 8<"$old_agent_key"
size=$(stat -c %s "$old_key")
PEMCMD=backups run_pemrotate --prune --keep 1
eq "exit status" 0 "$rc"
eq "the server keeps one set, the newest" "${runs[2]}" "$(bak_runs "$D")"
for id in $(seq 1 "$ESTATE_N"); do
	eq "agent$id keeps one set, the newest" "${runs[2]}" \
	    "$(bak_runs "$(dirname "$(agent_file "$id" key)")")"
done
for f in "$old_key" "$old_ca_key" "$old_agent_key"; do
	not "$(basename "$f") is gone" test -e "$f"
done
eq "the server key backup was zeroed before removal" "$size 0" \
    "$(wc -c </dev/fd/7) $(tr -d '\0' </dev/fd/7 | wc -c)"
ok "the agent key backup was zeroed" test "$(wc -c </dev/fd/8)" -gt 0 -a \
    "$(tr -d '\0' </dev/fd/8 | wc -c)" -eq 0
exec 7<&- 8<&-
eq "the kept key backup untouched" "$keep_sha" \
    "$(sha "$(bak "$D/server.key" "${runs[2]}")")"
ok "every agent still logs in" all_agents_login
PEMCMD=backups run_pemrotate
eq "one set listed" 1 "$(grep -c '^backup set ' "$E.out")"
PEMCMD=backups run_pemrotate --prune --keep 1
eq "pruning again: exit status" 0 "$rc"
eq "pruning again removes nothing" "${runs[2]}" "$(bak_runs "$D")"
