# The Debian package: built from the source tree with cpack in a build
# directory of its own, it declares its runtime dependencies, holds the
# binary, the man page and the bash completion, installs with apt-get, and
# the installed /usr/bin/pemrotate rotates a small estate as t_20 checks.
# Root only (the integration suite is); the package is removed at the end,
# or by the trap if the test stops early.

t92_build=$work/t92-build
t92_was_installed=$(dpkg-query -W -f='${Status}' pemrotate 2>/dev/null |
    grep -c "install ok installed" || true)

t92_remove() {
	# only what this test installed
	if [ "$t92_was_installed" = 0 ] && dpkg-query -W -f='${Status}' \
	    pemrotate 2>/dev/null | grep -q "install ok installed"; then
		dpkg -r pemrotate >/dev/null 2>&1 || true
	fi
}
trap 't92_remove; cleanup' EXIT

# The package of the binary's own NEEDED libraries (not theirs).
t92_needed_pkgs() {
	local so path
	for so in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$1" | awk -v n="$so" '$1 == n { print $3 }')
		[ -n "$path" ] || continue
		dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" \
		    2>/dev/null || echo "?: $path"
	done | cut -d: -f1 | sort -u
}

t92_main() {
begin "the .deb builds from the source tree"
ok "configure" cmake -S "$here" -B "$t92_build" -DPEMROTATE_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Release
ok "build" cmake --build "$t92_build" -j 2
ok "cpack -G DEB" sh -c "cd '$t92_build' && cpack -G DEB"
t92_deb=$(ls "$t92_build"/pemrotate_*.deb 2>/dev/null | head -n 1)
ok "one .deb made" test -n "$t92_deb" -a -f "$t92_deb"
t92_ver=$(sed -n 's/^project(pemrotate VERSION \([0-9.]*\).*/\1/p' \
    "$here/CMakeLists.txt")

begin "the .deb declares what it needs and holds what it should"
t92_info=$(dpkg-deb -I "$t92_deb")
t92_deps=$(dpkg-deb -f "$t92_deb" Depends)
echo "  Depends: $t92_deps"
for lib in libc6 libssh2-1 libssl3 libpq5; do
	ok "depends on $lib" grep -Eq "(^|, )$lib( |,|$)" <<<"$t92_deps"
done
# and on the package of every library the binary links (libyaml-0-2,
# libjansson4, ... as they come)
for pkg in $(t92_needed_pkgs "$t92_build/pemrotate"); do
	ok "depends on $pkg (a library it links)" \
	    grep -Eq "(^|, )$pkg( |,|$)" <<<"$t92_deps"
done
eq "package name" pemrotate "$(dpkg-deb -f "$t92_deb" Package)"
eq "version" "$t92_ver" "$(dpkg-deb -f "$t92_deb" Version)"
eq "section" admin "$(dpkg-deb -f "$t92_deb" Section)"
ok "maintainer" test -n "$(dpkg-deb -f "$t92_deb" Maintainer)"
ok "description" grep -q "Description: rotate every SSL certificate" \
    <<<"$t92_info"
t92_files=$(dpkg-deb -c "$t92_deb")
ok "binary" grep -Eq ' \./usr/bin/pemrotate$' <<<"$t92_files"
ok "man page" grep -Eq ' \./usr/share/man/man1/pemrotate\.1(\.gz)?$' \
    <<<"$t92_files"
ok "bash completion" grep -Eq \
    ' \./usr/share/bash-completion/completions/pemrotate$' <<<"$t92_files"
ok "binary executable" grep -Eq '^-rwxr-xr-x root/root .* \./usr/bin/pemrotate$' \
    <<<"$t92_files"

begin "apt-get installs it; the installed pemrotate works"
ok "apt-get install" sh -c "cd '$t92_build' && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    './$(basename "$t92_deb")' >'$work/t92-apt.log' 2>&1"
ok "installed" sh -c "dpkg-query -W -f='\${Status}' pemrotate |
    grep -q 'install ok installed'"
eq "--version" "pemrotate $t92_ver" "$(/usr/bin/pemrotate --version 2>&1)"
ok "man page installed" sh -c "test -s /usr/share/man/man1/pemrotate.1 ||
    test -s /usr/share/man/man1/pemrotate.1.gz"
ok "completion installed and loads" bash -c \
    ". /usr/share/bash-completion/completions/pemrotate &&
    complete -p pemrotate | grep -q _pemrotate"

E=$work/t92
estates+=("$E")
estate_up "$E" 3
t92_orig=$(agent_crts)
t92_D=$E/pg/data
declare -A t92_old
for f in $server_files; do t92_old[$f]=$(sha "$t92_D/$f"); done
t92_saved=$PEMROTATE
PEMROTATE=/usr/bin/pemrotate
begin "the installed /usr/bin/pemrotate rotates an estate"
run_pemrotate -y -j 2 --report "$work/t92.json"
PEMROTATE=$t92_saved
eq "exit status" 0 "$rc"
for f in $server_files; do
	not "$f replaced" test "${t92_old[$f]}" = "$(sha "$t92_D/$f")"
done
finished "$t92_orig"
ok "report says ok" python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "ok" and r["exit_status"] == 0, r["result"]
assert all(h["status"] == "ok" for h in r["hosts"])' "$work/t92.json"

begin "dpkg -r removes it"
ok "dpkg -r" dpkg -r pemrotate
not "binary gone" test -e /usr/bin/pemrotate
not "completion gone" test -e /usr/share/bash-completion/completions/pemrotate
}

if [ "$(id -u)" -ne 0 ]; then
	echo "--- t_92: not root: the package test is skipped"
elif [ "$t92_was_installed" != 0 ]; then
	echo "--- t_92: a pemrotate package is installed on this machine" \
	    "already: the package test, which would replace it, is skipped"
else
	t92_main
fi
t92_remove
trap cleanup EXIT
