#!/usr/bin/env bash
# The bash completion (docs/pemrotate.bash, made by pemrotate --help-bash)
# completes what pemrotate takes: commands, options, files after -i, the
# words of --key-type and --keygen.
#   tests/completion.sh SOURCE_DIR
set -euo pipefail
# shellcheck disable=SC1091
. "$1/docs/pemrotate.bash"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
touch "$t/estate.ini" "$t/estate two.ini" "$t/other"
fails=0
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'

# want LINE EXPECTED...: completing at the end of LINE gives EXPECTED.
want() {
	local line=$1 got exp
	shift
	COMP_LINE=$line
	COMP_POINT=${#line}
	_pemrotate || true
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
	exp=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ "$got" != "$exp" ]; then
		echo "FAIL: '$line': expected [$exp], got [$got]" >&2
		fails=$((fails + 1))
	fi
}

want "pemrotate " agents backups finalize inventory plan resume revoke rollback rotate status
want "pemrotate i" inventory
want "pemrotate status --format " json prometheus text
want "pemrotate r" resume revoke rollback rotate
want "pemrotate ro" rollback rotate
want "pemrotate rot" rotate
want "pemrotate backups --pr" --prune
want "pemrotate rotate --inv" --inventory
want "pemrotate rotate --no" --no-overlap
want "pemrotate rotate -i $t/est" "$t/estate.ini" "$t/estate two.ini"
want "pemrotate rotate --inventory $t/o" "$t/other"
want "pemrotate rotate --report $t/estate." "$t/estate.ini"
want "pemrotate rotate --state-dir $t" "$t"
want "pemrotate rotate --key-type ec" ec:P-256 ec:P-384
# readline splits at the colon: only what follows it is put back
want "pemrotate rotate --key-type ec:P-3" P-384
want "pemrotate rotate --keygen r" remote
want "pemrotate rotate -j " ""
want "pemrotate rotate -i x " ""
want "pemrotate resume --ver" --verbose --version
# every option of --help is offered
for o in $("$2" --help | grep -Eo '^ +(-[a-zA-Z], )?--[a-z-]+' |
    grep -Eo -- '--[a-z-]+'); do
	want "pemrotate rotate $o" "$o" $(compgen -W "$("$2" --help |
	    grep -Eo -- '--[a-z-]+' | sort -u)" -- "$o" | grep -vx -- "$o")
done
[ "$fails" -eq 0 ] && echo "completion: ok"
