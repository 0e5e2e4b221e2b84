#!/usr/bin/env bats
# exports.bats — what the two shared libraries export (nm -D): libdafs-core.so
# the functions dafs.h declares and nothing else (libdafs-core.map), the shim
# the calls intercept.h lists and nothing else (-fvisibility=hidden). Any
# other name would be in every program the shim is preloaded into, where the
# program's own symbol of that name could take over the library's calls.

load helpers

# The defined dynamic symbols of a library, without their version suffix
# (dafs_open@@DAFS_CORE_0) and without the version node itself (type A).
exported() {
  nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u
}

# The functions dafs.h declares: every name followed by "(" once the
# comments are gone (the compiler strips them; nothing is expanded).
dafs_h_functions() {
  gcc -fpreprocessed -dD -E -P "$DAFS_ROOT/libdafs-core/dafs.h" |
    grep -oE '\bdafs_[a-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u
}

# The calls intercept.h's tables list, as the compiler expands them.
intercepted_calls() {
  printf '%s\n' '#include "intercept.h"' \
    '#define SHIM_NAME_OF(ret, name, params) shim_wrapped_call: name' \
    'FOREACH_INTERCEPT(SHIM_NAME_OF) FOREACH_LIBAIO_INTERCEPT(SHIM_NAME_OF)' |
    gcc -std=gnu11 -D_GNU_SOURCE -E -P -I"$DAFS_ROOT/shim" -I"$DAFS_ROOT/libdafs-core" - |
    grep -oE 'shim_wrapped_call: [A-Za-z0-9_]+' | cut -d' ' -f2 | sort -u
}

# Fails listing what is in $1's list and not in $2's, and the reverse.
same_lists() {   # same_lists NAME_A LIST_A NAME_B LIST_B
  local only_a only_b
  only_a=$(comm -23 <(echo "$2") <(echo "$4"))
  only_b=$(comm -13 <(echo "$2") <(echo "$4"))
  [ -z "$only_a$only_b" ] ||
    fail "$(printf 'in %s only:\n%s\nin %s only:\n%s' "$1" "$only_a" "$3" "$only_b")"
}

@test "libdafs-core.so exports exactly the functions dafs.h declares" {
  local lib=$BUILD_DIR/libdafs-core.so.0 exports api
  [ -f "$lib" ] || fail "$lib is missing: build it first"
  exports=$(exported "$lib")
  api=$(dafs_h_functions)
  [ "$(wc -l <<<"$api")" -gt 50 ] || fail "dafs.h's functions not found: $api"
  # Said separately: the rule a reader of nm's output checks first.
  run grep -v '^dafs_' <<<"$exports"
  [ -z "$output" ] || fail "exported without the dafs_ prefix: $output"
  same_lists "libdafs-core.so's exports" "$exports" "dafs.h" "$api"
}

@test "libdafsshim.so exports exactly the calls intercept.h lists" {
  local lib=$BUILD_DIR/libdafsshim.so exports calls
  [ -f "$lib" ] || fail "$lib is missing: build it first"
  exports=$(exported "$lib")
  calls=$(intercepted_calls)
  [ "$(wc -l <<<"$calls")" -gt 150 ] || fail "intercept.h's calls not found: $calls"
  same_lists "libdafsshim.so's exports" "$exports" "intercept.h" "$calls"
}
