# A locked-down estate (estate.sh --locked-down): sshd refuses root logins,
# the operator logs in as pemops and becomes root with sudo, and every host
# and the PEM database are reachable only through a bastion, as an OpenSSH
# client configuration (patterns, negation, Match, an Include) says.
# pemrotate runs in the controller's namespace, beyond the bastion.  The
# rotation, and a resume after SIGKILL, must end as a root-login rotation
# ends (compared with one on an ordinary estate); sudo and login refusals
# stop at preflight with exit 2, nothing changed; the bastion is logged in
# to once per run.

E=$work/root80
estates+=("$E")
estate_up "$E" 6 --start local

# What a rotation leaves: each server and agent file (and its backups) with
# owner, group and mode; run ids, tokens and the estate's path left out.
file_facts() {
	local id
	{
		stat -c '%n %U %G %a' "$E/pg/data/"*.crt "$E/pg/data/"*.key \
		    "$E/pg/data/"*.crl "$E/pg/data/"*.pemrotate-* 2>/dev/null
		for id in $(seq 1 "$ESTATE_N"); do
			stat -c '%n %U %G %a' "$(agent_dir "$id")/root/.pem/"*
		done
	} | sed -e "s|^$E/||" -e 's/\.pemrotate-[^ ]*/.pemrotate-RUN/' | sort
}

begin "root logins: the reference rotation"
orig=$(agent_crts)
run_pemrotate -y
eq "exit status" 0 "$rc"
finished "$orig"
root_facts=$(file_facts)
estate_down "$E"

E=$work/lock80
estates+=("$E")
estate_up "$E" 6 --locked-down
L=$ESTATE_LOCKED_INVENTORY
CFG=$ESTATE_SSH_CONFIG
D=$E/pg/data

bastion_logins() {
	grep -c "Accepted publickey for pemjump from" "$E/sshd/log" || true
}

# locked_inv NAME LINE...: the locked-down inventory with agent3's line
# extended by LINE (variables) and [all:vars] by the other lines.
locked_inv() {
	local out=$work/$1.ini extra=$2
	shift 2
	sed -e "s|^\\(agent3 .*\\)\$|\\1 $extra|" "$L" >"$out"
	for l in "$@"; do
		printf '%s\n' "$l" >>"$out"
	done
	echo "$out"
}

begin "the controller cannot reach the hosts but through the bastion"
not "no direct route to agent2" bash "$ESTATE" ctl "$E" bash -c \
    "exec 3<>/dev/tcp/127.0.20.3/22"
not "nor to PostgreSQL" bash "$ESTATE" ctl "$E" bash -c \
    "exec 3<>/dev/tcp/127.0.10.1/5432"

begin "a user who may not sudo: exit 2 at preflight, nothing changed"
before=$(snapshot)
INV=$(locked_inv nosudo ansible_user=pemnosudo) KH=none WHERE=ctl \
    run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 2 "$rc"
ok "says the user may not sudo" grep -q \
    "agent3 (127.0.20.4): preflight: .*may not use sudo" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"
ok "no agent was stopped" all_running

begin "sudo asks for a password and none was given: exit 2"
INV=$(locked_inv pw ansible_user=pempw) KH=none WHERE=ctl \
    run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 2 "$rc"
ok "says sudo needs a password" grep -q \
    "agent3 (127.0.20.4): preflight: .*needs a password" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "a wrong sudo password: exit 2, the password in no output"
INV=$(locked_inv pwbad "ansible_user=pempw ansible_become_password=wr0ng-pw") \
    KH=none WHERE=ctl run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 2 "$rc"
ok "says the password was refused" grep -q \
    "agent3 (127.0.20.4): preflight: .*password was refused" "$E.out"
not "the password is not in the output" grep -q "wr0ng-pw" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "become method su is refused by name"
INV=$(locked_inv su ansible_become_method=su) KH=none WHERE=ctl \
    run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 2 "$rc"
ok "names the method" grep -q "ansible_become_method=su: only sudo" "$E.out"

begin "no become: root logins are refused"
INV=$(locked_inv noroot "ansible_user=root ansible_become=false") KH=none \
    WHERE=ctl run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 2 "$rc"
ok "agent3's login is refused" grep -q \
    "agent3 (127.0.20.4): preflight: .*authentication" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "a ProxyCommand is refused: pemrotate runs no command to connect"
printf 'Host 127.0.20.4\n\tProxyCommand nc %%h %%p\n' >"$work/proxycmd.conf"
cat "$CFG" >>"$work/proxycmd.conf"
INV=$L KH=none WHERE=ctl run_pemrotate -y --ssh-config "$work/proxycmd.conf"
eq "exit status" 2 "$rc"
ok "says why" grep -q "ProxyCommand .*use ProxyJump" "$E.out"
eq "files unchanged" "$before" "$(snapshot)"

begin "through the bastion, as pemops with sudo: the whole rotation"
orig=$(agent_crts)
logins=$(bastion_logins)
INV=$L KH=none WHERE=ctl run_pemrotate -y --ssh-config "$CFG"
eq "exit status" 0 "$rc"
finished "$orig"
eq "one bastion login for the whole run" $((logins + 1)) "$(bastion_logins)"
ok "the database went through the tunnel" grep -q \
    "PEM database 127.0.10.1:5432 through the PEM server host" "$E.out"
eq "files, owners and modes as with root logins" "$root_facts" \
    "$(file_facts)"
ok "no root login was accepted" sh -c "! grep -q \
    'Accepted publickey for \\(root\\|pemrt\\)' '$E/sshd/log'"

begin "the sudo password asked once (-K), for the user whose sudo wants it"
orig=$(agent_crts)
INV=$(locked_inv pwask ansible_user=pempw) KH=none WHERE=ctl \
    run_pemrotate -y -K --ssh-config "$CFG" <"$ESTATE_SUDO_PASSWORD_FILE"
eq "exit status" 0 "$rc"
finished "$orig"
not "the password is not in the output" grep -qF \
    "$(cat "$ESTATE_SUDO_PASSWORD_FILE")" "$E.out"
not "nor in the journal" grep -rqF "$(cat "$ESTATE_SUDO_PASSWORD_FILE")" \
    "$E.state"

begin "the jump host from ansible_ssh_common_args, -o ProxyJump"
orig=$(agent_crts)
inv=$work/commonargs.ini
{
	sed -e '/^\[all:vars\]$/,$d' "$L"
	echo "[all:vars]"
	echo "ansible_become=true"
	echo "ansible_user=pemops"
	echo "ansible_ssh_private_key_file=$ESTATE_SSH_KEY"
	echo "ansible_ssh_common_args='-o ProxyJump=pemjump@$ESTATE_BASTION_ADDR'"
} >"$inv"
# the jump host is resolved as ssh resolves one: without the configuration
# its key is --ssh-key (the inventory's key is the target's)
INV=$inv WHERE=ctl run_pemrotate -y --ssh-config none --ssh-key "$ESTATE_SSH_KEY"
eq "exit status" 0 "$rc"
finished "$orig"

begin "SIGKILL while pushing through the bastion: resume finishes"
orig=$(agent_crts)
# each start takes a second, so that the kill comes while pushing (the
# whole rotation through the bastion takes about two seconds here)
sed -e "s|pem_agent_start_cmd='|pem_agent_start_cmd='sleep 1; |" "$L" \
    >"$work/slowstart80.ini"
INV=$work/slowstart80.ini KH=none WHERE=ctl bg_rotate -y -j 2 \
    --ssh-config "$CFG"
ok "two agents pushed" bg_wait_journal '^pushed	' 2
bg_kill KILL || true
bg_wait
eq "killed" 137 "$rc"
ok "the lock is kept" test -e "$D/pemrotate.lock"
# a start the kill cut off still runs on its host (sshd lets it finish,
# as on a real estate; resume starts that agent again): let it end, so it
# does not finish after the resume's start and have the last word
sleep 2
logins=$(bastion_logins)
WHERE=ctl run_resume -y
eq "resume: exit status" 0 "$rc"
finished "$orig"
eq "resume: one bastion login" $((logins + 1)) "$(bastion_logins)"
