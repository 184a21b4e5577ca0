# The PEM server certificate names only host names and addresses: an agent
# whose agent.cfg says pem_host=* or pem_host=bad_name! does not put that in
# the certificate's subjectAltName, nor stop the rotation; a warning names
# the host and the value.

E=$work/san
estates+=("$E")
estate_up "$E" 3
D=$E/pg/data

# set_pem_host ID VALUE: agent ID's agent.cfg names VALUE as the server.
# The stand-in agent logs in to pem_host, so its stop, start and status
# commands get a copy of agent.cfg with the real one (same key and
# certificate paths, state and log in DIR/alt/agentID).
set_pem_host() {
	local cfg alt
	cfg=$(agent_dir "$1")/etc/agent.cfg
	alt=$E/alt/agent$1/etc/agent.cfg
	mkdir -p "$(dirname "$alt")"
	cp -p "$cfg" "$alt"
	cp -p "$(agent_dir "$1")/agent.state" "$E/alt/agent$1/"
	sed -i "s|^pem_host=.*|pem_host=$2|" "$cfg"
	sed -i "/^agent$1 /s|$cfg'|$alt'|g" "$work/inv-san.ini"
}

san_of() {	# the server certificate's subjectAltName, one line
	openssl x509 -in "$D/server.crt" -noout -ext subjectAltName |
	    sed -n '2,$p' | tr -d ' '
}

begin "an agent with pem_host=*"
cp "$ESTATE_INVENTORY" "$work/inv-san.ini"
set_pem_host 2 '*'
INV=$work/inv-san.ini run_pemrotate -y
grep "warning: agent2" "$E.out" | sed 's/^/  /' || true
eq "exit status" 0 "$rc"
ok "warning names the host and the value" grep -q \
    'warning: agent2 (127.0.20.3): agent.cfg pem_host "\*" is not a host name' \
    "$E.out"
echo "  subjectAltName: $(san_of)"
not "no * in subjectAltName" grep -q '\*' <<<"$(san_of)"
ok "server address still there" grep -q 'IPAddress:127.0.10.1' <<<"$(san_of)"
ok "agent2 runs on its new certificate" sh -c "grep -qx running \
    '$E/alt/agent2/agent.state' && tail -n 1 '$E/alt/agent2/agent.log' |
    grep -q 'start ok $(sha "$(agent_file 2 crt)")'"

begin "and another with pem_host=bad_name!"
set_pem_host 3 'bad_name!'
before=$(sha "$D/server.crt")
INV=$work/inv-san.ini run_pemrotate -y
grep "warning: agent" "$E.out" | sed 's/^/  /' || true
eq "exit status" 0 "$rc"
not "server certificate replaced" test "$before" = "$(sha "$D/server.crt")"
ok "warning names agent2" grep -q 'warning: agent2 .*pem_host "\*"' "$E.out"
ok "warning names agent3" grep -q \
    'warning: agent3 (127.0.20.4): agent.cfg pem_host "bad_name!" is not' \
    "$E.out"
echo "  subjectAltName: $(san_of)"
not "no * in subjectAltName" grep -q '\*' <<<"$(san_of)"
not "no bad_name in subjectAltName" grep -q 'bad_name' <<<"$(san_of)"
eq "subjectAltName" "IPAddress:127.0.10.1,DNS:pemserver" "$(san_of)"
ok "libpq verify-full works" in_ns sh -c \
    "PGSSLROOTCERT='$D/ca_certificate.crt' psql 'host=127.0.10.1 dbname=pem user=pemadmin sslmode=verify-full' \
    -XAtqc 'select 1'"

# A trailing dot: merged with the same name without it, else left out
# (never written with the dot).
begin "pem_host with a trailing dot"
sed -i "s|^pem_host=.*|pem_host=PEMSERVER.|" "$(agent_dir 2)/etc/agent.cfg"
sed -i "s|^pem_host=.*|pem_host=pem.example.com.|" \
    "$(agent_dir 3)/etc/agent.cfg"
INV=$work/inv-san.ini run_pemrotate -y
grep "warning: agent" "$E.out" | sed 's/^/  /' || true
eq "exit status" 0 "$rc"
not "no warning for the server's own name" grep -q "warning: agent2" \
    "$E.out"
ok "warning names agent3" grep -q \
    'warning: agent3 .*pem_host "pem.example.com." ends with a dot' "$E.out"
eq "subjectAltName" "IPAddress:127.0.10.1,DNS:pemserver" "$(san_of)"
