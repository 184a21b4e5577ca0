# Trust (docs/security.md): a host's lesser users race the directories
# pemrotate works in, with inotify, to make root write or chown a file of
# their choosing (the victim); agent.cfg names files that are no agent's.
# Every attack must fail: the victim untouched, refusals before any change
# (exit 2) naming host, file and reason.

E=$work/t
estates+=("$E")
estate_up "$E" 3
t70_D=$E/pg/data
t70_user=pemrtatk
id -u "$t70_user" >/dev/null 2>&1 ||
    useradd -M -d /nonexistent -s /usr/sbin/nologin "$t70_user"
t70_victim=$work/victim		# root's, 0644, in a directory only root writes
printf 'victim\n' >"$t70_victim"
chmod 0644 "$t70_victim"
t70_racer=$work/racer
cc -O2 -o "$t70_racer" "$here/tests/integration/racer.c"
t70_k2=$(agent_file 2 key)
t70_c2=$(agent_file 2 crt)
t70_d2=$(dirname "$t70_k2")
cp -p "$t70_k2" "$work/t70-agent2.key"
cp -p "$t70_c2" "$work/t70-agent2.crt"
# the agent's user owns its certificate directory and files, and can reach it
chmod 0711 "$E/hosts" "$(agent_dir 2)" "$(dirname "$t70_d2")"

victim_intact() {
	[ "$(cat "$t70_victim")" = victim ] &&
	    [ "$(stat -c '%U %G %a' "$t70_victim")" = "root root 644" ]
}

# agent2's directory as its user left it: the original key and certificate.
t70_reset2() {
	find "$t70_d2" -mindepth 1 -delete
	chown "$t70_user:" "$t70_d2"
	chmod 0700 "$t70_d2"
	install -o "$t70_user" -g "$t70_user" -m 0600 "$work/t70-agent2.key" \
	    "$t70_k2"
	install -o "$t70_user" -g "$t70_user" -m 0600 "$work/t70-agent2.crt" \
	    "$t70_c2"
}

# race DIR SECONDS BASE...: the racer, as DIR's owner, in the background.
race() {
	local owner
	owner=$(stat -c %U "$1")
	setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups \
	    "$t70_racer" "$1" "$t70_victim" "$2" "${@:3}" \
	    >"$E.racer.log" 2>&1 &
	t70_racer_pid=$!
	sleep 0.3
}

# After a racer: agent2 as its user left it, and the run finished.
t70_finish() {
	t70_reset2
	if [ "$rc" -ne 0 ]; then
		run_resume -y
		eq "the run finishes once the racer is gone" 0 "$rc"
	fi
}

race_end() {
	kill "$t70_racer_pid" 2>/dev/null || true
	wait "$t70_racer_pid" 2>/dev/null || true
	echo "  racer: $(grep -c . "$E.racer.log") action(s)"
}

begin "agent directory owned by the agent's user: rotated as that user"
t70_reset2
run_pemrotate -y --report "$work/t70-owner.json"
eq "exit status" 0 "$rc"
eq "agent2 key replaced, still the user's" "$t70_user 600" \
    "$(stat -c '%U %a' "$t70_k2")"
not "agent2 key is new" cmp -s "$t70_k2" "$work/t70-agent2.key"
ok "agent2 key backup is the user's original" cmp -s "$work/t70-agent2.key" \
    "$(bak "$t70_k2" "$(last_run)")"
eq "agent2 key backup owner" "$t70_user" \
    "$(stat -c %U "$(bak "$t70_k2" "$(last_run)")")"
ok "every agent logs in" all_agents_login
not "no name of the run shows its run id" sh -c \
    "ls -a '$t70_d2' | grep -v '^agent2\\.[a-z]*\\.pemrotate-' |
    grep -q '$(last_run)'"

begin "a racer in the agent's directory: root writes nothing of its choosing"
t70_reset2
race "$t70_d2" 120 agent2.key agent2.crt
run_pemrotate -y
race_end
ok "the racer was at work" grep -q 'swapped\|planted' "$E.racer.log"
ok "the victim is untouched" victim_intact
ok "agent1 logs in" bash "$ESTATE" check-agent "$E" 1
ok "agent3 logs in" bash "$ESTATE" check-agent "$E" 3
t70_finish

begin "--keygen remote with a racer: the key is made as the user, in its own directory"
t70_reset2
race "$t70_d2" 120 agent2.key agent2.crt
run_pemrotate -y --keygen remote
race_end
ok "the racer was at work" grep -q 'swapped\|planted' "$E.racer.log"
ok "the victim is untouched" victim_intact
ok "agent3 logs in" bash "$ESTATE" check-agent "$E" 3
t70_finish

begin "restore after a failed start, with a racer"
t70_reset2
t70_flag=$work/t70-agent2-fails
touch "$t70_flag"
sed "/^agent2 /s|pem_agent_start_cmd='|pem_agent_start_cmd='if [ -e $t70_flag ]; then rm -f $t70_flag; echo agent2 refuses to start >\&2; exit 1; fi; |" \
    "$ESTATE_INVENTORY" >"$work/t70-fails.ini"
# the racer comes once the preflight is over (the first agent stopped):
# started earlier, on a slow machine it can make the preflight refuse
# agent2's files, and the restore this case is about never runs
INV=$work/t70-fails.ini bg_rotate -y
bg_wait_journal '^stopped' 1 || true
race "$t70_d2" 120 agent2.key agent2.crt
bg_wait
race_end
ok "agent2 failed" grep -q 'agent2.*push' "$E.out"
ok "the racer was at work" grep -q 'swapped\|planted' "$E.racer.log"
ok "the victim is untouched" victim_intact
t70_finish

begin "the same restore without a racer puts the original back"
t70_reset2
touch "$t70_flag"
INV=$work/t70-fails.ini run_pemrotate -y
eq "exit status" 1 "$rc"
ok "agent2 has its original key again" cmp -s "$t70_k2" \
    "$work/t70-agent2.key"
eq "agent2 key owner and mode" "$t70_user 600" "$(stat -c '%U %a' "$t70_k2")"
eq "no temporary file left" "" "$(find "$t70_d2" -mindepth 1 -name '.*')"
t70_finish

begin "a directory another user can write is refused, named (--allow-shared-dirs overrides)"
t70_reset2
chown root: "$t70_k2" "$t70_c2"	# root's files in the user's directory
before=$(snapshot)
run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names host, directory and user" grep -q \
    "agent2.*agent_ssl_key.*$t70_d2.*uid $(id -u "$t70_user").*--allow-shared-dirs" \
    "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
chmod 0777 "$t70_d2"
chown "$t70_user:" "$t70_k2" "$t70_c2"
run_pemrotate -y
eq "world-writable: exit status" 2 "$rc"
ok "names the mode" grep -q "agent2.*$t70_d2 is writable by everyone" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
chmod 0700 "$t70_d2"
ok "the victim is untouched" victim_intact

# ---- agent.cfg (finding 3) ----
t70_cfg=$(agent_dir 3)/etc/agent.cfg
cp -p "$t70_cfg" "$work/t70-agent3.cfg"
t70_cfg_set() {	# t70_cfg_set KEY VALUE
	sed -i "s|^$1=.*|$1=$2|" "$t70_cfg"
}

begin "agent.cfg naming a system file (not a key) is refused"
cp "$t70_victim" "$work/t70-sys"	# root's 0644 file, like /etc/shadow
t70_cfg_set agent_ssl_key "$work/t70-sys"
before=$(snapshot)
run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names the file and why" grep -q \
    "agent3.*$work/t70-sys (agent_ssl_key) is not a PEM private key" "$E.out"
eq "the system file is untouched" victim "$(cat "$work/t70-sys")"
eq "nothing changed" "$before" "$(snapshot)"
cp -p "$work/t70-agent3.cfg" "$t70_cfg"

begin "agent.cfg naming a non-certificate as agent_ssl_crt is refused"
t70_cfg_set agent_ssl_crt "$work/t70-sys"
run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names the file and why" grep -q \
    "agent3.*$work/t70-sys (agent_ssl_crt) holds no PEM certificate" "$E.out"
eq "nothing changed" "$before" "$(snapshot)"
cp -p "$work/t70-agent3.cfg" "$t70_cfg"

begin "agent.cfg paths with .. are refused"
t70_cfg_set agent_ssl_key "$(dirname "$(agent_file 3 key)")/../.pem/agent3.key"
run_pemrotate -y
eq "exit status" 2 "$rc"
ok "says why" grep -q 'agent3.*without "." or ".."' "$E.out"
cp -p "$work/t70-agent3.cfg" "$t70_cfg"

begin "agent.cfg another user can change is not trusted"
chmod 0666 "$t70_cfg"
run_pemrotate -y
eq "group/world-writable: exit status" 2 "$rc"
ok "names agent.cfg and its mode" grep -q \
    "agent3.*$t70_cfg: not trusted.*writable by everyone" "$E.out"
chmod 0644 "$t70_cfg"
chown "$t70_user" "$t70_cfg"
run_pemrotate -y
eq "owned by another user: exit status" 2 "$rc"
ok "names agent.cfg and its owner" grep -q \
    "agent3.*$t70_cfg: not trusted.*owned by uid $(id -u "$t70_user")" "$E.out"
chown root "$t70_cfg"
eq "nothing changed" "$before" "$(snapshot)"
ok "the victim is untouched" victim_intact

# ---- the data directory, postgres's (last: the racer breaks the server) ----
begin "a racer as postgres in the data directory: root writes nothing of its choosing"
t70_reset2
race "$t70_D" 120 ca_key.key ca_certificate.crt root.crt root.crl server.key \
    server.crt
run_pemrotate -y
race_end
ok "the racer was at work" grep -q 'swapped\|planted' "$E.racer.log"
ok "the victim is untouched" victim_intact
