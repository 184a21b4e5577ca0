#!/bin/sh
#
# tests/layers.sh SRCDIR -- fail if a source file depends upwards: a folder
# includes only its own headers, common/'s, and those of the folders below
# it (common <- crypto, transport, inventory <- orchestrator); inside
# orchestrator/ a file includes only headers of files of lower layers or of
# its own, in the layer list at the top of orchestrator/run.h.
set -eu

src=${1:?usage: tests/layers.sh SRCDIR}
cd "$src"
bad=0

# folder FILE: what FILE's folder may include besides itself
allowed() {
	case $1 in
	common/*) echo "common" ;;
	crypto/* | transport/* | inventory/*) echo "common" ;;
	orchestrator/*) echo "common crypto transport inventory" ;;
	esac
}

for f in common/*.[ch] crypto/*.[ch] transport/*.[ch] inventory/*.[ch] \
    orchestrator/*.[ch]; do
	dir=${f%%/*}
	ok=$(allowed "$f")
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		*/*) d=${inc%%/*} ;;
		*) d=$dir ;;
		esac
		[ "$d" = "$dir" ] && continue
		case " $ok " in
		*" $d "*) ;;
		*) echo "$f includes $inc: $d is not below $dir" >&2; bad=1 ;;
		esac
	done
done

# The orchestrator's layers: line N of the list (top first) holds the
# files of layer N; headers stand for the .c of the same name.
layers=$(sed -n '/Layers, top first/,/runtypes.h (types only)/p' \
    orchestrator/run.h | sed -n 's/^ \*   //p' | sed 's/  .*//')
layer_of() {	# layer_of NAME.c -> its line number in the list, or nothing
	printf '%s\n' "$layers" | awk -v f="$1" '{
		for (i = 1; i <= NF; i++) if ($i == f) { print NR; exit } }'
}
for f in orchestrator/*.c; do
	b=${f#orchestrator/}
	case $b in cmd_*.c) me=$(layer_of "$b") ;; *) me=$(layer_of "$b") ;; esac
	if [ -z "$me" ]; then
		echo "$f: not in run.h's layer list" >&2
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\([^"/]*\)\.h".*/\1/p' "$f"); do
		[ "$inc" = "${b%.c}" ] && continue
		case $inc in runtypes | run) continue ;; esac
		[ "$inc" = cmd ] && case $b in cmd*.c | main.c) continue ;; esac
		them=$(layer_of "$inc.c")
		if [ -z "$them" ]; then
			echo "$f includes $inc.h, of no file in the list" >&2
			bad=1
		elif [ "$them" -le "$me" ] && [ "$them" -ne "$me" ]; then
			echo "$f (layer $me) includes $inc.h (layer $them): upwards" >&2
			bad=1
		elif [ "$them" -eq "$me" ]; then
			echo "$f includes $inc.h of its own layer $me" >&2
			bad=1
		fi
	done
done
[ "$bad" -eq 0 ] && echo "layers: no upward or sideways dependency"
exit "$bad"
