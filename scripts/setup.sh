#!/usr/bin/env bash
# Install what pemrotate needs to build and test on Debian 12, then build.
# Idempotent: packages already present are left alone.
#   scripts/setup.sh            install packages and build into build/
#   SETUP_NO_BUILD=1 scripts/setup.sh   install packages only
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(
	build-essential cmake pkg-config
	libssh2-1-dev libssl-dev libpq-dev libcmocka-dev
	libyaml-dev libjansson-dev
	openssl openssh-server openssh-client
	postgresql postgresql-client
	iproute2 util-linux procps python3 clang sudo
	ansible-core	# tests: the reference for what an inventory means
	dpkg-dev file	# cpack -G DEB: dpkg-shlibdeps, file
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	# no service of these packages is started: tests start their own
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	    --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "${SETUP_NO_BUILD:-}" ]; then
	cmake -S "$here" -B "$here/build" -DPEMROTATE_WERROR=ON >/dev/null
	cmake --build "$here/build" -j "$(nproc)" >/dev/null
	echo "setup: built $here/build/pemrotate"
fi
