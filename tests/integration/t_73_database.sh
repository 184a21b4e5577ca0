# The PEM database names the files root overwrites, so pemrotate believes
# it only over TLS verified with the PEM CA read over SSH from the server
# host, and checks its answer against that host's kernel.  How PostgreSQL
# is restarted comes from the kernel too (the process listening on the
# port), never from postmaster.pid, which the postgres user can write.

E=$work/g
estates+=("$E")
estate_up "$E" 4
D=$E/pg/data
pg_uid=$(id -u postgres)
pg_gid=$(id -g postgres)

# ---- (a) a connection that would not verify the server ----

before=$(snapshot)
begin "sslmode=require is refused before any change"
PEMDB="$PEMDB sslmode=require" run_pemrotate -y
eq "exit status" 2 "$rc"
ok "says why and what to do" grep -qF "the PEM database connection would \
not verify the server (sslmode=require); use sslmode=verify-ca or \
verify-full, or pass --allow-unverified-db" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "PGSSLMODE=prefer is refused too"
export PGSSLMODE=prefer
run_pemrotate -y
unset PGSSLMODE
eq "exit status" 2 "$rc"
ok "names the sslmode" grep -q "would not verify the server (sslmode=prefer)" \
    "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "--allow-unverified-db: sslmode=require runs"
orig=$(agent_crts)
PEMDB="$PEMDB sslmode=require" run_pemrotate -y --allow-unverified-db
eq "exit status" 0 "$rc"
ok "says the certificate is not verified" grep -q \
    "allow-unverified-db: the PEM database's certificate is not verified" \
    "$E.out"
finished "$orig"

# ---- (b) a rogue database where the conninfo points ----

# A second PostgreSQL in a namespace of its own, reached from the estate's
# over a veth pair (10.73.0.2): ssl on with a self-signed certificate, the
# agents of the estate in its pem.agent, its own data directory, and
# ssl_ca_file naming a file elsewhere.  estate.sh down tears it down.
R=$work/rogue
rogue_up() {
	local ns=pemrt-rogue-$$ d=$R/pg/data
	mkdir -p "$R/pg/sock" "$R/victim"
	chmod 755 "$R"
	ip netns add "$ns"
	printf 'export ESTATE_DIR=%q\nexport ESTATE_NS=%q\nexport ESTATE_N=0\n' \
	    "$R" "$ns" >"$R/env"
	estates+=("$R")
	ip netns exec "$ns" ip link set lo up
	ip link add t73a netns "$ESTATE_NS" type veth peer name t73b netns "$ns"
	ip -n "$ESTATE_NS" addr add 10.73.0.1/24 dev t73a
	ip -n "$ESTATE_NS" link set t73a up
	ip -n "$ns" addr add 10.73.0.2/24 dev t73b
	ip -n "$ns" link set t73b up
	chown -R postgres: "$R/pg"
	runuser -u postgres -- "$ESTATE_PGBIN/initdb" -D "$d" -N -A trust \
	    -U postgres -E UTF8 --locale=C >"$R/pg/initdb.log" 2>&1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=127.0.10.1" -keyout "$d/server.key" \
	    -out "$d/server.crt" 2>/dev/null
	chown postgres: "$d/server.key" "$d/server.crt"
	chmod 600 "$d/server.key"
	cp "$d/server.crt" "$R/victim/root.crt"
	chmod 644 "$R/victim/root.crt"
	cat >>"$d/postgresql.conf" <<EOF
listen_addresses = '*'
port = 5432
unix_socket_directories = '$R/pg/sock'
ssl = on
ssl_ca_file = '$R/victim/root.crt'
fsync = off
EOF
	printf 'local all all trust\nhost all all 0.0.0.0/0 trust\n' \
	    >"$d/pg_hba.conf"
	ip netns exec "$ns" runuser -u postgres -- "$ESTATE_PGBIN/pg_ctl" \
	    -D "$d" -l "$R/pg/log" -w -t 60 start >/dev/null
	ip netns exec "$ns" runuser -u postgres -- psql -X -q \
	    -v ON_ERROR_STOP=1 -h "$R/pg/sock" -d postgres -v n="$ESTATE_N" \
	    >/dev/null <<'EOF'
CREATE ROLE pemadmin SUPERUSER LOGIN;
CREATE DATABASE pem;
\c pem
CREATE SCHEMA pem;
CREATE TABLE pem.agent(id int PRIMARY KEY, active bool NOT NULL DEFAULT true);
INSERT INTO pem.agent(id) SELECT generate_series(1, :n);
CREATE TABLE pem.job(jobid serial PRIMARY KEY, jobname text NOT NULL,
    jobenabled bool NOT NULL DEFAULT true);
EOF
}

# Hashes of what the rogue could make root overwrite.
rogue_files() {
	sha "$R/victim/root.crt"
	sha "$R/pg/data/server.crt"
	ls -a "$R/victim" "$R/pg/data"
}

begin "a rogue database: set up"
ok "rogue PostgreSQL runs" rogue_up
rogue_pemdb="host=10.73.0.2 port=5432 dbname=pem user=pemadmin"
ok "it answers unverified" in_ns psql "$rogue_pemdb sslmode=require" \
    -XAtqc 'select 1'

begin "a rogue database is refused: its certificate does not verify"
before=$(snapshot)
rogue_before=$(rogue_files)
PEMDB=$rogue_pemdb run_pemrotate -y
eq "exit status" 2 "$rc"
ok "says the certificate did not verify against the PEM CA" grep -q \
    "PEM database: .*certificate verify failed.*against the PEM CA from \
pemserver (127.0.10.1):$D/ca_certificate.crt" "$E.out"
eq "estate unchanged" "$before" "$(snapshot)"
eq "the rogue's files unchanged" "$rogue_before" "$(rogue_files)"
ok "no agent was stopped" all_running

begin "a rogue database, unverified: its answer does not match the kernel"
PEMDB="$rogue_pemdb sslmode=require" run_pemrotate -y --allow-unverified-db
eq "exit status" 2 "$rc"
ok "names both directories" grep -qF "the PEM database says its \
data_directory is $R/pg/data, but the PostgreSQL listening on port 5432 of \
pemserver (127.0.10.1) (pid" "$E.out"
eq "estate unchanged" "$before" "$(snapshot)"
eq "the rogue's files unchanged" "$rogue_before" "$(rogue_files)"
ok "no agent was stopped" all_running

# ---- a setting outside the data directory ----

begin "ssl_crl_file outside the data directory needs the inventory's word"
out=$E/outside
mkdir -p "$out"
cp -p "$D/root.crl" "$out/root.crl"
chmod 755 "$out"
chown postgres: "$out"
psql_admin() { in_ns psql "$PEMDB" -XAtqc "$1" >/dev/null; }
psql_admin "ALTER SYSTEM SET ssl_crl_file = '$out/root.crl'"
psql_admin "SELECT pg_reload_conf()"
sleep 1
run_pemrotate --dry-run
eq "exit status" 2 "$rc"
ok "names the setting and the path" grep -qF "the PEM database says \
ssl_crl_file is $out/root.crl, outside the data directory $D: refusing to \
write there unless the inventory names it (pem_ssl_crl_file=$out/root.crl)" \
    "$E.out"
sed "s|^\[pem_server:vars\]|&\npem_ssl_crl_file=$out/root.crl|" \
    "$ESTATE_INVENTORY" >"$work/t73-crl.ini"
INV=$work/t73-crl.ini run_pemrotate --dry-run
eq "named in the inventory: exit status" 0 "$rc"
psql_admin "ALTER SYSTEM RESET ssl_crl_file"
psql_admin "SELECT pg_reload_conf()"
sleep 1

# ---- (c) the default: verified, and it follows the new CA ----

begin "default connection: verified with the PEM CA, rotated"
orig=$(agent_crts)
old_ca=$(sha "$D/ca_certificate.crt")
run_pemrotate -y
eq "exit status" 0 "$rc"
ok "verified with verify-ca against the server's CA" grep -qF "PEM database \
at 127.0.10.1:5432: certificate verified (sslmode verify-ca) against \
pemserver (127.0.10.1):$D/ca_certificate.crt" "$E.out"
ok "the new CA trusted before the restart" grep -q "verified against the \
old and the new CA from now on" "$E.out"
ok "restarted" grep -q "restarting PostgreSQL" "$E.out"
not "the CA changed" test "$old_ca" = "$(sha "$D/ca_certificate.crt")"
finished "$orig"
ok "libpq verify-ca with the new CA" in_ns sh -c "PGSSLROOTCERT='$D/ca_certificate.crt' \
    psql '$PEMDB sslmode=verify-ca' -XAtqc 'select 1'"
ok "no sslrootcert file left" sh -c "! ls '$E.state' | grep -q rootcert"

# ---- (d) restart detection ignores postmaster.pid ----

grep -v '^pem_server_restart_cmd' "$ESTATE_INVENTORY" >"$work/t73-detect.ini"
real_cmd="restart with cd / && setpriv --reuid=$pg_uid --regid=$pg_gid \
--init-groups -- '$ESTATE_PGBIN/pg_ctl' restart -D '$D' -m fast -w -t 120 \
-l '$E/pg/log'"

begin "a planted postmaster.pid is ignored"
# a decoy process running a binary named postgres from another directory,
# and postmaster.pid naming it (root-owned, so the real postmaster's
# periodic check of its lock file cannot open it and leaves it alone)
mkdir -p "$work/decoy/bin"
cp /bin/sleep "$work/decoy/bin/postgres"
"$work/decoy/bin/postgres" 300 >"$work/decoy/log" 2>&1 &
decoy=$!
cp -p "$D/postmaster.pid" "$work/postmaster.pid.orig"
{ echo "$decoy"; tail -n +2 "$work/postmaster.pid.orig"; } >"$work/planted"
chmod 644 "$work/planted"
mv -f "$work/planted" "$D/postmaster.pid"
INV=$work/t73-detect.ini run_pemrotate --dry-run
cp -p "$work/postmaster.pid.orig" "$work/pmpid.tmp"
mv -f "$work/pmpid.tmp" "$D/postmaster.pid"
kill "$decoy" 2>/dev/null || true
wait "$decoy" 2>/dev/null || true
eq "exit status" 0 "$rc"
ok "restart derived from the real postmaster" grep -qF "$real_cmd" "$E.out"
not "nothing taken from the decoy" grep -q "$work/decoy" "$E.out"
ok "PostgreSQL still runs" in_ns psql "$PEMDB" -XAtqc 'select 1'

begin "a busy server host: /proc/net/tcp spans many pages (short SFTP reads)"
in_ns python3 -c 'import socket, time
held = []
for i in range(600):
    s = socket.socket(); s.bind(("127.0.99.1", 20000 + i)); s.listen(1)
    held.append(s)
time.sleep(120)' >/dev/null 2>&1 &
t73_busy=$!
# python takes its time on a loaded machine: wait for the 600 listeners
for _ in $(seq 1 100); do
	[ "$(in_ns sh -c 'wc -c </proc/net/tcp')" -gt 65536 ] && break
	sleep 0.2
done
ok "/proc/net/tcp is larger than a page" test \
    "$(in_ns sh -c 'wc -c </proc/net/tcp')" -gt 65536
INV=$work/t73-detect.ini run_pemrotate --dry-run
kill "$t73_busy" 2>/dev/null || true
wait "$t73_busy" 2>/dev/null || true
for p in $(pgrep -f 'range\(600\)'); do kill "$p" 2>/dev/null || true; done
eq "exit status" 0 "$rc"
ok "restart derived from the real postmaster" grep -qF "$real_cmd" "$E.out"

begin "restart detected, no pem_server_restart_cmd: the real server restarts"
orig=$(agent_crts)
pid0=$(head -n 1 "$D/postmaster.pid")
INV=$work/t73-detect.ini run_pemrotate -y
eq "exit status" 0 "$rc"
ok "restarted" grep -q "restarting PostgreSQL" "$E.out"
not "the postmaster is a new one" test "$pid0" = \
    "$(head -n 1 "$D/postmaster.pid")"
ok "it logs where it did" sh -c "tail -n 20 '$E/pg/log' | grep -q 'database system is ready'"
finished "$orig"

# ---- a postmaster in a systemd unit that is not PostgreSQL ----

# /proc/PID/cgroup names the unit; with a writable cgroup hierarchy the
# postmaster can be put in one named like a unit, as systemd would.
cg_root=
if [ -w /sys/fs/cgroup/systemd/cgroup.procs ]; then
	cg_root=/sys/fs/cgroup/systemd
elif [ -w /sys/fs/cgroup/unified/cgroup.procs ]; then
	cg_root=/sys/fs/cgroup/unified
fi
cg_move() {	# cg_move UNIT: the postmaster into /system.slice/UNIT
	mkdir -p "$cg_root/system.slice/$1"
	head -n 1 "$D/postmaster.pid" >"$cg_root/system.slice/$1/cgroup.procs"
}
cg_back() {	# cg_back UNIT: every process back in the root, UNIT removed
	local p
	while read -r p; do
		echo "$p" >"$cg_root/cgroup.procs" 2>/dev/null || true
	done <"$cg_root/system.slice/$1/cgroup.procs"
	rmdir "$cg_root/system.slice/$1" 2>/dev/null || true
}

if [ -n "$cg_root" ]; then
	begin "a postmaster in cron.service: refused"
	before=$(snapshot)
	cg_move cron.service
	INV=$work/t73-detect.ini run_pemrotate -y
	cg_back cron.service
	eq "exit status" 2 "$rc"
	ok "names the unit" grep -q "runs in systemd unit cron.service, \
which is not a PostgreSQL service: refusing to restart it" "$E.out"
	eq "files unchanged" "$before" "$(snapshot)"
	ok "no agent was stopped" all_running

	# no systemd runs here: systemctl cannot name the unit's MainPID
	begin "a PostgreSQL unit that systemd does not vouch for: refused"
	cg_move postgresql@15-main.service
	INV=$work/t73-detect.ini run_pemrotate --dry-run
	cg_back postgresql@15-main.service
	eq "exit status" 2 "$rc"
	ok "names the unit and systemctl" grep -q "cannot tell how to restart \
PostgreSQL: systemctl show -p MainPID postgresql@15-main.service" "$E.out"

	begin "pem_server_restart_cmd stays the operator's override"
	cg_move cron.service
	run_pemrotate --dry-run
	cg_back cron.service
	eq "exit status" 0 "$rc"
	ok "the inventory's command" grep -q "restart with /usr/sbin/runuser" \
	    "$E.out"
	rmdir "$cg_root/system.slice" 2>/dev/null || true
else
	echo "  (no writable cgroup hierarchy: the unit checks are unit tests only)"
fi
