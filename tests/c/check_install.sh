#!/usr/bin/env bash
# Installs the C library from a build tree into a scratch prefix, then
# builds examples/c/vector_add.c against it with pkg-config, shared and
# static, and runs both. Arguments: the source root and the build tree.
set -euo pipefail
src=$1
build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:}${PKG_CONFIG_PATH:-}"
export PKG_CONFIG_PATH
cc=${CC:-cc}
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$prefix/vector_add" \
  "$src/examples/c/vector_add.c" $(pkg-config --cflags --libs cambrian)
# Static: libcambrian.a with the shared libraries it needs (the modules
# cambrian.pc requires, and its own private libraries).
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$prefix/vector_add_static" \
  "$src/examples/c/vector_add.c" $(pkg-config --cflags cambrian) \
  "$prefix/lib/libcambrian.a" \
  $(pkg-config --libs $(pkg-config --print-requires-private cambrian)) \
  -lclblast -lOpenCL -lm -pthread
LD_LIBRARY_PATH="$prefix/lib" "$prefix/vector_add"
"$prefix/vector_add_static"
echo "installed library: shared and static builds of vector_add ran"
