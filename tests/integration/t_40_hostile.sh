# Hostile input.  Paths full of shell metacharacters (from agent.cfg and
# from the inventory) must be quoted and rotated like any other; control
# characters, relative paths, bad agent IDs and unknown pem.agent rows must
# be refused before anything changes (exit 2), with the culprit named.

E=$work/c
estates+=("$E")
estate_up "$E" 6
h40_data=$E/pg/data

cfg_of() {	# cfg_of ID -> that agent's agent.cfg
	echo "$(agent_dir "$1")/etc/agent.cfg"
}

# ini_dq S: S as a double-quoted inventory value (only \ and " escaped;
# $ and ` are literal there).
ini_dq() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# cfg_set ID KEY LINE: in agent ID's agent.cfg, replace KEY's line by LINE
# (same line number, which is printed); the original file is kept in .orig
# for cfg_restore.
cfg_set() {
	local f n
	f=$(cfg_of "$1")
	[ -f "$f.orig" ] || cp -p "$f" "$f.orig"
	cp "$f" "$f.tmp"
	n=$(grep -n "^$2 *=" "$f.tmp" | cut -d: -f1)
	{
		head -n "$((n - 1))" "$f.tmp"
		printf '%s\n' "$3"
		tail -n "+$((n + 1))" "$f.tmp"
	} >"$f"
	rm -f "$f.tmp"
	echo "$n"
}

cfg_restore() {	# cfg_restore ID...
	local id f
	for id in "$@"; do
		f=$(cfg_of "$id")
		if [ -f "$f.orig" ]; then
			mv -f "$f.orig" "$f"
		fi
	done
}

# Names a remote shell would create if it ran a piece of the path as a
# command or expanded $HOME in it.
h40_strays() {
	local d n
	# shellcheck disable=SC2016 # literal $ and ` on purpose
	for d in / /root /tmp "$E" "$(agent_dir 3)" "$(agent_dir 4)" \
	    "$(agent_dir 3)/root/.pem" "$(agent_dir 4)/root/.pem"; do
		for n in x y z 'z`' '`z`' ';x' 'x &&' '&&' "$HOME;x" \
		    'agent3.key' 'agent3.crt' 'agent4.key' 'agent4.crt'; do
			case $d in
			*/root/.pem) case $n in agent*) continue ;; esac ;;
			esac
			if [ -e "$d/$n" ] || [ -L "$d/$n" ]; then
				echo "$d/$n"
			fi
		done
	done
	find / -xdev -maxdepth 3 -name '*ird*d*q*' 2>/dev/null || true
}

# ---- a: hostile paths must work -------------------------------------------

begin "hostile paths: agent.cfg (agent3) and inventory overrides (agent4)"
h40_dirname="we ird'd\"q \$HOME;x && y \`z\`"
declare -A h40_path h40_old
for id in 3 4; do
	d=$(dirname "$(agent_file "$id" key)")/$h40_dirname
	mkdir -p "$d"
	for t in key crt; do
		h40_path[$id$t]=$d/agent$id.$t
		mv "$(agent_file "$id" "$t")" "${h40_path[$id$t]}"
		h40_old[$id$t]=$(sha "${h40_path[$id$t]}")
	done
	# The agent itself reads agent.cfg (blanks around "=" on purpose).
	cfg_set "$id" agent_ssl_key "agent_ssl_key = ${h40_path[${id}key]}" >/dev/null
	cfg_set "$id" agent_ssl_crt "agent_ssl_crt=${h40_path[${id}crt]}  " >/dev/null
done
ok "the cfg holds the raw path" grep -qF "$h40_dirname/agent3.key" "$(cfg_of 3)"
ok "agent3 logs in from the hostile path" bash "$ESTATE" check-agent "$E" 3
ok "agent4 logs in from the hostile path" bash "$ESTATE" check-agent "$E" 4

# agent4: the inventory names the id, key and certificate, so agent.cfg is
# not read (docs/inventory.md): point pem_agent_cfg at nothing to prove it.
cfg4=$(cfg_of 4)
while IFS= read -r line; do
	case $line in
	"agent4 "*)
		line=${line/" pem_agent_cfg=$cfg4 "/" pem_agent_cfg=$work/absent/agent.cfg "}
		line+=" pem_agent_id=4"
		line+=" pem_agent_ssl_key=$(ini_dq "${h40_path[4key]}")"
		line+=" pem_agent_ssl_crt=$(ini_dq "${h40_path[4crt]}")"
		;;
	esac
	printf '%s\n' "$line"
done <"$ESTATE_INVENTORY" >"$work/hostile.ini"
ok "inventory: agent4's cfg replaced" \
    grep -qF " pem_agent_cfg=$work/absent/agent.cfg " "$work/hostile.ini"
ok "inventory: agent4's paths double-quoted" grep -qF \
    "pem_agent_ssl_crt=\"${h40_path[4crt]%%we ird*}we ird'd\\\"q \$HOME;x && y \`z\`/agent4.crt\"" \
    "$work/hostile.ini"

h40_strays_before=$(h40_strays)
h40_tree_before=$(find "$(agent_dir 3)" "$(agent_dir 4)" | sort)
INV=$work/hostile.ini run_pemrotate -y --report "$work/hostile.json"
eq "exit status" 0 "$rc"
h40_run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' \
    "$work/hostile.json" 2>/dev/null || echo none)
for id in 3 4; do
	for t in key crt; do
		f=${h40_path[$id$t]}
		not "agent$id $t replaced at the hostile path" \
		    test "${h40_old[$id$t]}" = "$(sha "$f")"
		eq "agent$id $t backup holds the original" "${h40_old[$id$t]}" \
		    "$(sha "$(bak "$f" "$h40_run")" 2>/dev/null)"
	done
	eq "agent$id key mode" 600 "$(stat -c %a "${h40_path[${id}key]}")"
	ok "agent$id key matches" test \
	    "$(openssl pkey -in "${h40_path[${id}key]}" -pubout)" = \
	    "$(openssl x509 -in "${h40_path[${id}crt]}" -noout -pubkey)"
	ok "agent$id crt verifies" sh -c "openssl verify -CAfile \
	    '$h40_data/root.crt' \"\$1\" | grep -q ': OK'" sh \
	    "${h40_path[${id}crt]}"
	ok "agent$id started on the new certificate" sh -c "tail -n 1 \
	    '$(agent_dir "$id")/agent.log' | grep -q 'start ok $(sha "${h40_path[${id}crt]}")'"
	ok "agent$id logs in with the new certificate" \
	    bash "$ESTATE" check-agent "$E" "$id"
done
ok "every agent logs in" all_agents_login
eq "no stray file (x, y, z, \$HOME;x, …) anywhere" "$h40_strays_before" \
    "$(h40_strays)"
h40_tree_want=$( (
	echo "$h40_tree_before"
	for id in 3 4; do
		bak "${h40_path[${id}key]}" "$h40_run"
		bak "${h40_path[${id}crt]}" "$h40_run"
	done) | sort)
eq "agent3/4 hosts: only the backups are new" "$h40_tree_want" \
    "$(find "$(agent_dir 3)" "$(agent_dir 4)" | sort)"

# Back to the plain layout, with the new files, for the cases below.
for id in 3 4; do
	for t in key crt; do
		mv "${h40_path[$id$t]}" "$(agent_file "$id" "$t")"
	done
	rm -rf "$(dirname "${h40_path[${id}key]}")"
done
cfg_restore 3 4
ok "restored: every agent logs in" all_agents_login

# ---- b: control characters are refused ------------------------------------

h40_before=$(snapshot)

# A control character in agent ID's KEY is refused, named, never echoed:
# refused_char ID KEY CHAR NAME PATTERN ADDR
refused_char() {
	h40_line=$(cfg_set "$1" "$2" "$2=/tmp/a${3}b.key")
	run_pemrotate -y
	cfg_restore "$1"
	eq "exit status" 2 "$rc"
	ok "names host, file and line" \
	    grep -qF "agent$1 ($6):$(cfg_of "$1"):$h40_line: " "$E.out"
	ok "says why" grep -q "$2 holds a control character" "$E.out"
	not "no raw $4 in the output" grep -qP "$5" "$E.out"
	eq "files unchanged" "$h40_before" "$(snapshot)"
	ok "no agent was stopped" all_running
}

esc=$(printf '\033')

begin "ESC in an agent.cfg path is refused"
refused_char 5 agent_ssl_key "${esc}[31m" ESC '\x1b' 127.0.20.6

begin "CR inside an agent.cfg path is refused"
refused_char 2 agent_ssl_crt "$(printf '\r')" CR '\r' 127.0.20.3

begin "ESC in an inventory path is refused"
while IFS= read -r line; do
	case $line in
	"agent5 "*) line+=" pem_agent_ssl_key=\"/tmp/a${esc}b.key\"" ;;
	esac
	printf '%s\n' "$line"
done <"$ESTATE_INVENTORY" >"$work/esc.ini"
h40_line=$(grep -n '^agent5 ' "$work/esc.ini" | cut -d: -f1)
INV=$work/esc.ini run_pemrotate -y
eq "exit status" 2 "$rc"
ok "names file and line" grep -qF "$work/esc.ini:$h40_line:" "$E.out"
not "no raw ESC in the output" grep -qP '\x1b' "$E.out"
eq "files unchanged" "$h40_before" "$(snapshot)"
ok "no agent was stopped" all_running

# ---- c: relative path --------------------------------------------------------

begin "relative agent_ssl_key is refused"
h40_line=$(cfg_set 6 agent_ssl_key "agent_ssl_key=root/.pem/x.key")
run_pemrotate -y
cfg_restore 6
eq "exit status" 2 "$rc"
ok "names host, file and line" \
    grep -qF "agent6 (127.0.20.7):$(cfg_of 6):$h40_line: agent_ssl_key" "$E.out"
ok "says why" grep -q 'not an absolute path' "$E.out"
eq "files unchanged" "$h40_before" "$(snapshot)"
ok "no agent was stopped" all_running
not "nothing made at the relative path" test -e /root/root/.pem/x.key

# ---- d: agent_id not a positive integer -----------------------------------

for h40_id in '7; rm -rf /' 0; do
	begin "agent_id \"$h40_id\" is refused"
	h40_line=$(cfg_set 2 agent_id "agent_id=$h40_id")
	run_pemrotate -y
	cfg_restore 2
	eq "exit status" 2 "$rc"
	ok "names file and line" \
	    grep -qF "agent2 (127.0.20.3):$(cfg_of 2):$h40_line: agent_id" "$E.out"
	ok "says why" grep -q 'is not a positive integer' "$E.out"
	eq "files unchanged" "$h40_before" "$(snapshot)"
	ok "no agent was stopped" all_running
done

# ---- e: a pem.agent row no host has ---------------------------------------

begin "active pem.agent row without a host is refused"
in_ns psql "$PEMDB" -XAtqc "INSERT INTO pem.agent(id, description, active)
    VALUES (4242, 'nowhere', true)" >/dev/null
run_pemrotate -y
in_ns psql "$PEMDB" -XAtqc "DELETE FROM pem.agent WHERE id = 4242" >/dev/null
eq "exit status" 2 "$rc"
ok "names 4242" grep -q "have no host in $ESTATE_INVENTORY: 4242" "$E.out"
eq "files unchanged" "$h40_before" "$(snapshot)"
ok "no agent was stopped" all_running
eq "row removed again" 0 "$(in_ns psql "$PEMDB" -XAtqc \
    "SELECT count(*) FROM pem.agent WHERE id = 4242")"

begin "after all that, a clean rotation still works"
run_pemrotate -y
eq "exit status" 0 "$rc"
ok "every agent logs in" all_agents_login
