# known_hosts read as OpenSSH reads it: a key marked @revoked is refused even
# with --accept-new-host-keys; a host known only through @cert-authority is
# refused, never trusted on first use; hashed names (long names and
# [host]:port, hashed by ssh-keygen -H) and wildcard patterns are found.

E=$work/kh
estates+=("$E")
estate_up "$E" 4
srv_ed=$(cut -d' ' -f1,2 "$E/sshd/ssh_host_ed25519_key.pub")
srv_ec=$(cut -d' ' -f1,2 "$E/sshd/ssh_host_ecdsa_key.pub")

begin "revoked host key, --accept-new-host-keys"
kh=$work/kh-revoked
cp "$ESTATE_KNOWN_HOSTS" "$kh"
ssh-keygen -q -R "$ESTATE_SERVER_ADDR" -f "$kh" >/dev/null 2>&1
rm -f "$kh.old"
printf '@revoked %s %s\n@revoked %s %s\n' "$ESTATE_SERVER_ADDR" "$srv_ed" \
    "$ESTATE_SERVER_ADDR" "$srv_ec" >>"$kh"
khsum=$(sha "$kh")
before=$(snapshot)
KH=$kh run_pemrotate -y --accept-new-host-keys
grep -m 1 "error: pemserver" "$E.out" | sed 's/^/  /' || true
eq "exit status" 2 "$rc"
ok "names the host, @revoked, file and line" grep -Eq "error: pemserver \
.*host key .* is marked @revoked in $kh line [0-9]+" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
eq "known_hosts unchanged (key not recorded)" "$khsum" "$(sha "$kh")"
ok "no agent was stopped" grep -q running "$(agent_dir 2)/agent.state"

begin "host known only through @cert-authority, --accept-new-host-keys"
kh=$work/kh-ca
cp "$ESTATE_KNOWN_HOSTS" "$kh"
ssh-keygen -q -R 127.0.20.4 -f "$kh" >/dev/null 2>&1	# agent3
rm -f "$kh.old"
ssh-keygen -q -t ed25519 -N '' -f "$work/hostca" >/dev/null
echo "@cert-authority 127.0.20.* $(cut -d' ' -f1,2 "$work/hostca.pub")" \
    >>"$kh"
khsum=$(sha "$kh")
before=$(snapshot)
KH=$kh run_pemrotate -y --accept-new-host-keys
grep -m 1 "error: agent3" "$E.out" | sed 's/^/  /' || true
eq "exit status" 2 "$rc"
ok "says why, names the host" grep -q "error: agent3 .*127.0.20.4 is \
trusted through @cert-authority in $kh" "$E.out"
ok "says what to do" grep -q "add its host key to known_hosts (ssh-keyscan" \
    "$E.out"
not "hosts with their own key lines pass" grep -q "error: agent2 " "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
eq "known_hosts unchanged (key not recorded)" "$khsum" "$(sha "$kh")"

# agent2 on a second sshd port, agent3 and agent4 by names over 55 bytes
# (agent4 on that port too), from /etc/netns/NS/hosts, which ip netns
# exec puts in place of /etc/hosts; every name hashed but the server's,
# which is a wildcard pattern with a negation.
begin "hashed known_hosts: [host]:port, long names; patterns"
long3=agent3.a-rather-long-subdomain.pem-estate.example.internal
long4=agent4.a-rather-long-subdomain.pem-estate.example.internal
netns_etc=/etc/netns/$ESTATE_NS
[ -d /etc/netns ] && made_netns_dir=0 || made_netns_dir=1
mkdir -p "$netns_etc"
printf '127.0.0.1 localhost\n127.0.20.4 %s\n127.0.20.5 %s\n' "$long3" \
    "$long4" >"$netns_etc/hosts"
in_ns /usr/sbin/sshd -f "$E/sshd/sshd_config" -p 2222 \
    -o "PidFile=$E/sshd2.pid" -E "$E/sshd2.log"
sed -e "s/^agent2 ansible_host=127.0.20.3 /&ansible_port=2222 /" \
    -e "s/^agent3 ansible_host=127.0.20.4 /agent3 ansible_host=$long3 /" \
    -e "s/^agent4 ansible_host=127.0.20.5 /agent4 ansible_host=$long4 \
ansible_port=2222 /" \
    "$ESTATE_INVENTORY" >"$work/inv-hashed.ini"
kh=$work/kh-hashed
for name in "[127.0.20.3]:2222" "$long3" "[$long4]:2222"; do
	printf '%s %s\n%s %s\n' "$name" "$srv_ed" "$name" "$srv_ec"
done >"$kh"
ssh-keygen -q -H -f "$kh" >/dev/null 2>&1
rm -f "$kh.old"
printf '127.0.10.?,!127.0.10.9 %s\n127.0.10.*,!127.0.10.1 %s\n' "$srv_ed" \
    "$srv_ec" >>"$kh"
not "names hashed" grep -Eq '^[^|]*(long|127\.0\.20)' "$kh"
ok "ssh-keygen -F finds the long [host]:port" ssh-keygen -F \
    "[$long4]:2222" -f "$kh"
khsum=$(sha "$kh")
orig=$(agent_crts)
INV=$work/inv-hashed.ini KH=$kh run_pemrotate -y
eq "exit status" 0 "$rc"
finished "$orig"
eq "known_hosts unchanged" "$khsum" "$(sha "$kh")"
ok "agent2 reached on port 2222" grep -q "on 127.0.20.3 port 2222" \
    "$E/sshd2.log"
kill "$(cat "$E/sshd2.pid")" 2>/dev/null || true
rm -rf "$netns_etc"
[ "$made_netns_dir" -eq 0 ] || rmdir /etc/netns 2>/dev/null || true
