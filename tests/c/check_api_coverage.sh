#!/bin/sh
# Checks that the C tests cover the public C API:
#   - every function that include/cambrian.h and include/cambrian/*.h
#     declare is called by at least one test (tests/c/test_*.c, comments
#     left out);
#   - every TEST(name) is listed in test_list.h or internal_list.h, and
#     every listed name has its TEST.
# Usage: check_api_coverage.sh [repository root]. Prints what is missing;
# exits 1 if anything is.
set -eu
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
TESTS="$ROOT/tests/c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Block comments out, line by line (a comment may span lines).
strip_comments() {
  awk '{
    out = ""; line = $0
    while (length(line) > 0) {
      if (incomment) {
        i = index(line, "*/")
        if (i == 0) {
          line = ""
        } else {
          line = substr(line, i + 2)
          incomment = 0
        }
      } else {
        i = index(line, "/*")
        if (i == 0) {
          out = out line
          line = ""
        } else {
          out = out substr(line, 1, i - 1)
          line = substr(line, i + 2)
          incomment = 1
        }
      }
    }
    print out
  }' "$@"
}

# Declarations start in the first column with their return type; the
# first cb_name( of such a line is the function declared.
strip_comments "$ROOT/include/cambrian.h" "$ROOT"/include/cambrian/*.h |
  grep -E '^[a-z].*(^|[^a-z0-9_])cb_[a-z0-9_]+\(' |
  sed -E 's/^([^(]*[^a-z0-9_])?(cb_[a-z0-9_]+)\(.*/\2/' |
  sort -u >"$tmp/api"

strip_comments "$TESTS"/test_*.c >"$tmp/tests"
missing=0
count=0
while read -r fn; do
  count=$((count + 1))
  if ! grep -Eq "(^|[^a-z0-9_])$fn[[:space:]]*\(" "$tmp/tests"; then
    echo "not called by any test: $fn"
    missing=$((missing + 1))
  fi
done <"$tmp/api"

# Tests and lists agree. TEST_CPU_AND_OPENCL(name, check) defines two:
# name_cpu and name_opencl.
{
  grep -hoE '^TEST\([a-z0-9_]+\)' "$TESTS"/test_*.c |
    sed -E 's/TEST\((.*)\)/\1/'
  grep -hoE '^TEST_CPU_AND_OPENCL\([a-z0-9_]+,' "$TESTS"/test_*.c |
    sed -E 's/TEST_CPU_AND_OPENCL\((.*),/\1_cpu\n\1_opencl/'
} | sort >"$tmp/defined"
grep -hoE '^[[:space:]]*X\([a-z0-9_]+\)' "$TESTS/test_list.h" \
  "$TESTS/internal_list.h" | sed -E 's/.*X\((.*)\)/\1/' | sort >"$tmp/listed"
for name in $(comm -23 "$tmp/defined" "$tmp/listed"); do
  echo "TEST($name) is in no list"
  missing=$((missing + 1))
done
for name in $(comm -13 "$tmp/defined" "$tmp/listed"); do
  echo "listed test $name has no TEST"
  missing=$((missing + 1))
done
for name in $(uniq -d "$tmp/listed"); do
  echo "test $name is listed twice"
  missing=$((missing + 1))
done

if [ "$count" -lt 50 ]; then
  echo "only $count public functions found: the header parse is broken"
  exit 1
fi
echo "$count public functions, $(wc -l <"$tmp/defined") tests"
[ "$missing" -eq 0 ]
