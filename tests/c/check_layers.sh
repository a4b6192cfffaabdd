#!/usr/bin/env bash
# Checks the strict stack of layers. Arguments: the repository root, then
# one "name=obj1:obj2:..." per layer of the C core, lowest first.
#
# 1. Symbols: every cambrian symbol (cb_*, cb__*) a layer's objects use
#    must be defined by that layer or one below it: no call, and no use of
#    a variable, reaches upward.
# 2. Includes: a file of a layer folder includes, with quotes, only headers
#    of its own folder, of a folder below it, or of include/; pybind/
#    includes only its own headers and include/.
set -euo pipefail
root=$1
shift
status=0
defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
folders=()
for spec in "$@"; do
  name=${spec%%=*}
  IFS=: read -r -a objs <<<"${spec#*=}"
  folders+=("${name#cambrian_}")
  # What this layer defines joins what the layers below it define.
  nm --defined-only "${objs[@]}" 2>/dev/null |
    awk 'NF == 3 && $3 ~ /^cb_/ { print $3 }' >>"$defined"
  sort -u -o "$defined" "$defined"
  up=$(nm --undefined-only "${objs[@]}" 2>/dev/null |
         awk '$1 == "U" && $2 ~ /^cb_/ { print $2 }' | sort -u |
         comm -23 - "$defined")
  if [ -n "$up" ]; then
    echo "layer ${name#cambrian_} uses symbols of a layer above it:"
    printf '  %s\n' $up
    status=1
  fi
done
folders+=(pybind)

# Each folder may include from itself, include/ and the folders before it
# (pybind: from itself and include/ only).
allowed=""
for f in "${folders[@]}"; do
  if [ "$f" = pybind ]; then
    dirs="pybind include"
  else
    allowed="$allowed $f"
    dirs="$allowed include"
  fi
  for src in "$root/$f"/*.[ch]; do
    [ -e "$src" ] || continue
    while read -r inc; do
      ok=0
      for d in $dirs; do
        [ -e "$root/$d/$inc" ] && ok=1 && break
      done
      if [ $ok = 0 ]; then
        echo "${src#$root/} includes \"$inc\", which is not in its layer" \
             "or one below it"
        status=1
      fi
    done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
               "$src")
  done
done
[ $status = 0 ] && echo "layers: ${folders[*]}: no upward use"
exit $status
