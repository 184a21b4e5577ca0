# lib.sh: helpers for pemrotate's integration tests (sourced).
# Each test brings up a real estate (tests/estate/estate.sh), runs the real
# pemrotate against it, and checks what an operator would check.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ESTATE=$here/tests/estate/estate.sh
PEMROTATE=${PEMROTATE:-$here/build/pemrotate}
passed=0
failed=0
failures=()
current=""

# ok NAME CMD...: one assertion.
ok() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$current: $name")
		echo "  FAIL: $current: $name" >&2
	fi
}

# not NAME CMD...: an assertion that CMD fails.
not() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		failed=$((failed + 1))
		failures+=("$current: $name")
		echo "  FAIL: $current: $name" >&2
	else
		passed=$((passed + 1))
	fi
}

eq() {	# eq NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$current: $1")
		echo "  FAIL: $current: $1: expected '$2', got '$3'" >&2
	fi
}

begin() {
	current=$1
	echo "--- $current"
}

estate_up() {	# estate_up DIR N [options]
	local dir=$1
	shift
	bash "$ESTATE" up "$dir" "$@" >"$dir.up.log" 2>&1 || {
		cat "$dir.up.log" >&2
		return 1
	}
	# shellcheck disable=SC1091
	. "$dir/env"
}

estate_down() {
	local dir=$1
	if [ "$failed" -gt 0 ]; then
		bash "$ESTATE" logs "$dir" >&2 || true
	fi
	bash "$ESTATE" down "$dir" >/dev/null 2>&1 || true
}

in_ns() {
	bash "$ESTATE" exec "$E" "$@"
}

# pemrotate runs where the operator is: in the estate's namespace, or with
# WHERE=ctl in the controller's, beyond the bastion (--locked-down).
in_ctl() {
	bash "$ESTATE" "${WHERE:-exec}" "$E" "$@"
}

# The rotate options every run shares; KH=none: no --known-hosts (the ssh
# configuration's files).
rotate_args() {
	printf '%s\n' -i "${INV:-$ESTATE_INVENTORY}"
	[ "${KH:-}" = none ] ||
	    printf '%s\n' --known-hosts "${KH:-$ESTATE_KNOWN_HOSTS}"
	printf '%s\n' --pem-db "$PEMDB" --key-type ec:P-256 --timeout 20 \
	    --state-dir "$E.state"
}

# pemrotate against estate $E; output in $E.out, exit status in $rc.
# PEMCMD=NAME runs that command (plan, backups, ...) instead of rotate.
run_pemrotate() {
	local -a a
	mapfile -t a < <(rotate_args)
	set +e
	in_ctl "$PEMROTATE" "${PEMCMD:-rotate}" "${a[@]}" "$@" >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# pemrotate resume [ARGS] against estate $E; like run_pemrotate.
run_resume() {
	set +e
	in_ctl "$PEMROTATE" resume --state-dir "$E.state" --timeout 20 "$@" \
	    >"$E.out" 2>&1
	rc=$?
	set -e
	echo "  pemrotate resume exit $rc: $(tail -n 1 "$E.out")"
	[ "$rc" -eq 0 ] || grep 'error:' "$E.out" | head -n 3 | sed 's/^/    /'

	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# The run id of the journal of estate $E written last: run ids sort by
# their second only (then a random tag), and two short runs can share one.
last_run() {
	ls -t "$E.state" | sed -n 's/\.journal$//p' | head -n 1
}

# bak FILE RUN: the backup run RUN kept of FILE (FILE.pemrotate-RUN-<token>,
# the token unpredictable); FILE.pemrotate-RUN-none if there is not exactly one.
bak() {
	local m=("$1".pemrotate-"$2"-*)
	if [ "${#m[@]}" -eq 1 ] && [ -e "${m[0]}" ]; then
		echo "${m[0]}"
	else
		echo "$1.pemrotate-$2-none"
	fi
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

agent_dir() {	# agent_dir ID -> DIR/hosts/<h>
	if [ "$1" -eq 1 ]; then
		echo "$E/hosts/pemserver"
	else
		echo "$E/hosts/agent$1"
	fi
}

agent_file() {	# agent_file ID key|crt
	echo "$(agent_dir "$1")/root/.pem/agent$1.$2"
}

server_files="ca_key.key ca_certificate.crt root.crt root.crl server.key server.crt"

# Hashes of every server and agent file, to prove nothing changed.
snapshot() {
	local f id
	for f in $server_files; do
		sha "$E/pg/data/$f"
	done
	for id in $(seq 1 "$ESTATE_N"); do
		sha "$(agent_file "$id" key)"
		sha "$(agent_file "$id" crt)"
	done
}

all_agents_login() {
	local id
	for id in $(seq 1 "$ESTATE_N"); do
		bash "$ESTATE" check-agent "$E" "$id" >/dev/null 2>&1 || return 1
	done
}

# Every agent's state is "running": nobody was stopped.
all_running() {
	local id
	for id in $(seq 1 "$ESTATE_N"); do
		grep -qx running "$(agent_dir "$id")/agent.state" || return 1
	done
}

count_certs() {
	grep -c 'BEGIN CERTIFICATE' "$1"
}

finish() {
	echo
	for f in "${failures[@]:-}"; do
		[ -n "$f" ] && echo "failed: $f"
	done
	echo "integration: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# ---- helpers for the interrupt and fault tests (t_50, t_60) ----

agent_name() {	# agent_name ID -> its inventory host name
	if [ "$1" -eq 1 ]; then echo pemserver; else echo "agent$1"; fi
}

# The sha256 of every agent's certificate, one a line in agent ID order.
agent_crts() {
	local id
	for id in $(seq 1 "$ESTATE_N"); do
		sha "$(agent_file "$id" crt)"
	done
}

# The sha256 of the six server files, to prove the server is untouched.
server_snapshot() {
	local f
	for f in $server_files; do
		sha "$E/pg/data/$f"
	done
}

# Fingerprint of the certificate PostgreSQL serves, as openssl x509 prints it.
served_fp() {
	in_ns sh -c "openssl s_client -starttls postgres -connect \
	    127.0.10.1:5432 </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256" || true
}

job_enabled() {	# job_enabled JOBNAME -> t or f
	in_ns psql "$PEMDB" -XAtqc \
	    "select jobenabled from pem.job where jobname='$1'" 2>/dev/null || true
}

journal_of() {	# journal_of [RUN] -> the journal file (default: newest run)
	echo "$E.state/${1:-$(last_run)}.journal"
}

jlast() {	# jlast KEY [RUN]: the last value of KEY in the journal
	awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v }' \
	    "$(journal_of "${2:-}")" 2>/dev/null || true
}

jhas() {	# jhas KEY VALUE [RUN]: the journal holds the line KEY<TAB>VALUE
	grep -qxF "$1	$2" "$(journal_of "${3:-}")"
}

# bg_rotate ARGS...: like run_pemrotate, but in the background; its output
# in $E.out. The subshell running it is $bg_pid, pemrotate itself (a child
# of it once estate.sh and ip netns exec have exec'd) is $bg_prog, set by
# bg_wait_journal. bg_wait reaps it and sets $rc.
bg_rotate() {
	local -a a
	mapfile -t a < <(rotate_args)
	bg_before=$(ls "$E.state" 2>/dev/null || true)
	bg_prog=""
	in_ctl "$PEMROTATE" rotate "${a[@]}" "$@" >"$E.out" 2>&1 &
	bg_pid=$!
}

bg_journal() {	# the journal the background run created, if any yet
	local f
	for f in "$E.state"/*.journal; do
		[ -e "$f" ] || continue
		grep -qxF "$(basename "$f")" <<<"$bg_before" || {
			echo "$f"
			return 0
		}
	done
}

# bg_wait_journal ERE [COUNT] [SECONDS]: wait until the background run's
# journal holds COUNT lines matching ERE (default 1, at most 60 s); 1 if
# it does not in time or the run ends first.
bg_wait_journal() {
	local j end=$((SECONDS + ${3:-60}))
	while [ "$SECONDS" -lt "$end" ]; do
		j=$(bg_journal)
		[ -n "$bg_prog" ] || bg_prog=$(pgrep -P "$bg_pid" -x pemrotate || true)
		if [ -n "$bg_prog" ] && [ -n "$j" ] &&
		    [ "$(grep -Ec "$1" "$j")" -ge "${2:-1}" ]; then
			return 0
		fi
		kill -0 "$bg_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

bg_kill() {	# bg_kill SIG: send SIG to the background pemrotate
	[ -n "$bg_prog" ] && kill -"$1" "$bg_prog"
}

bg_wait() {	# reap the background run (at most 60 s, then SIGKILL); $rc
	local end=$((SECONDS + 60))
	while kill -0 "$bg_pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	if kill -0 "$bg_pid" 2>/dev/null; then
		echo "  pemrotate (background) still runs after 60 s: killed" >&2
		[ -z "$bg_prog" ] || kill -KILL "$bg_prog" 2>/dev/null || true
		kill -KILL "$bg_pid" 2>/dev/null || true
	fi
	set +e
	wait "$bg_pid"
	rc=$?
	set -e
	echo "  pemrotate (background) exit $rc: $(tail -n 1 "$E.out")"
	not "no sanitizer report" grep -Eq \
	    'AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer' \
	    "$E.out"
}

# finished ORIG_CRTS: the rotation of $E is complete: root.crt is the new CA
# alone, every agent has a certificate other than in ORIG_CRTS (agent_crts
# output), that verifies with the CRL, and runs and logs in on it; the lock
# is gone and PEM's CA job is enabled again.
finished() {
	local D=$E/pg/data id c
	eq "root.crt is the new CA alone" 1 "$(count_certs "$D/root.crt")"
	ok "root.crt = ca_certificate.crt" cmp -s "$D/root.crt" \
	    "$D/ca_certificate.crt"
	eq "root.crl holds one CRL" 1 "$(grep -c 'BEGIN X509 CRL' "$D/root.crl")"
	for id in $(seq 1 "$ESTATE_N"); do
		c=$(agent_file "$id" crt)
		not "agent$id has a new certificate" test \
		    "$(sed -n "${id}p" <<<"$1")" = "$(sha "$c")"
		ok "agent$id crt verifies with the CRL" sh -c "openssl verify \
		    -crl_check_all -CAfile '$D/root.crt' -CRLfile '$D/root.crl' \
		    '$c' | grep -q ': OK'"
		ok "agent$id runs on it" sh -c "grep -qx running \
		    '$(agent_dir "$id")/agent.state' && tail -n 1 \
		    '$(agent_dir "$id")/agent.log' | grep -q 'start ok $(sha "$c")'"
	done
	ok "every agent logs in" all_agents_login
	ok "the lock is gone" test ! -e "$D/pemrotate.lock"
	eq "the CA expiry job is enabled" t \
	    "$(job_enabled 'Check CA certificate expiry')"
}
