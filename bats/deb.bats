#!/usr/bin/env bats
# deb.bats — the Debian packages as an administrator meets them: `make deb`
# builds the four packages, lintian finds no errors, `apt-get install ./*.deb`
# installs them, the installed dafs-server started from the installed example
# configuration serves the installed dafs command and shim, and `apt-get
# purge` leaves none of their files behind.
#
# It installs packages on this machine (the test machine) and always purges
# them in teardown_file. It runs on the plain build only: the packages are
# built from the source tree with Debian's flags, whatever DAFS_BUILD names,
# so the build-asan run would only build and install the same packages again.
# About a minute, most of it the package build.

load helpers

PACKAGES=(dafs-server libdafs-core0 libdafs-core-dev dafs-client)
APT=(apt-get -y -qq -o DPkg::Lock::Timeout=120)

installed_any() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' && return 0
  done
  return 1
}

purge_all() {
  DEBIAN_FRONTEND=noninteractive timeout 300 "${APT[@]}" purge "${PACKAGES[@]}" >/dev/null 2>&1
}


setup() {
  if [ "${DAFS_BUILD:-build}" != build ]; then
    skip "the packages do not depend on DAFS_BUILD ($DAFS_BUILD): deb.bats runs with the plain build only"
  fi
  [ "$(id -u)" -eq 0 ] || skip "installing packages needs root"
  DEBS=$DAFS_ROOT/build-deb
  STATE=$BATS_FILE_TMPDIR
}

teardown_file() {
  [ "${DAFS_BUILD:-build}" = build ] || return 0
  installed_any && purge_all
  return 0
}

@test "make deb builds the four packages, lintian reports no errors" {
  if installed_any; then
    fail "dafs packages are already installed here; deb.bats would replace and purge them"
  fi
  run timeout 600 make -C "$DAFS_ROOT" --no-print-directory deb
  [ "$status" -eq 0 ] || fail "make deb failed: $output"
  for p in "${PACKAGES[@]}"; do
    ls "$DEBS/${p}_"*.deb >/dev/null || fail "no $p package in $DEBS"
  done
  # lintian's report, kept by make deb: errors fail, warnings are shown.
  [ -f "$DEBS/lintian.txt" ] || fail "make deb left no lintian report"
  run grep -E '^E: ' "$DEBS/lintian.txt"
  [ "$status" -ne 0 ] || fail "lintian errors: $output"
  grep -E '^W: ' "$DEBS/lintian.txt" | sed 's/^/# lintian: /' >&3 || true
  # Dependencies come from the libraries (shlibs), not by hand.
  run dpkg-deb -f "$DEBS"/dafs-server_*.deb Depends
  assert_output --partial libfabric1
  assert_output --partial liburing2
  touch "$STATE/built"
}

@test "apt-get install ./*.deb installs them" {
  [ -f "$STATE/built" ] || fail "the packages were not built"
  local debs=()
  for p in "${PACKAGES[@]}"; do debs+=("$DEBS/${p}_"*.deb); done
  run env DEBIAN_FRONTEND=noninteractive timeout 300 "${APT[@]}" install "${debs[@]}"
  [ "$status" -eq 0 ] || fail "apt-get install: $output"
  for p in "${PACKAGES[@]}"; do
    run dpkg-query -W -f='${Status}' "$p"
    assert_output "install ok installed"
  done
  # What each package holds, for the purge test.
  for p in "${PACKAGES[@]}"; do dpkg -L "$p"; done | sort -u >"$STATE/files"
  touch "$STATE/installed"
}

@test "the installed unit verifies, the man pages render, the config is a conffile" {
  [ -f "$STATE/installed" ] || fail "the packages are not installed"
  run systemd-analyze verify /lib/systemd/system/dafs-server@.service
  [ "$status" -eq 0 ] || fail "systemd-analyze verify: $output"
  for page in dafs.1 dafs-run.1 dafs-shim.7 dafs-server.8 dafs-server.conf.5 libdafs.3 dafsctl.8; do
    local file
    file=$(man -w "${page##*.}" "${page%.*}") || fail "man cannot find $page"
    run env MANWIDTH=80 man -l "$file"
    [ "$status" -eq 0 ] && [ -n "$output" ] || fail "man -l $file: $output"
  done
  run dpkg-query -W -f='${Conffiles}' dafs-server
  assert_output --partial /etc/dafs/dafs-server.conf
  # The development files work with the system paths.
  run pkg-config --cflags --libs dafs-core
  assert_output --partial -ldafs-core
  printf '#include <dafs.h>\n#include <stdio.h>\nint main(void) { puts(dafs_strerror(-2)); return 0; }\n' \
    >"$BATS_TEST_TMPDIR/p.c"
  run cc -o "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/p.c" $(pkg-config --cflags --libs dafs-core)
  [ "$status" -eq 0 ] || fail "a program against the installed dafs.h: $output"
  run "$BATS_TEST_TMPDIR/p"
  [ "$status" -eq 0 ] && [ -n "$output" ] || fail "it runs: $output"
}

@test "the installed server, from the installed example config, serves the installed dafs and shim" {
  [ -f "$STATE/installed" ] || fail "the packages are not installed"
  EXPORT=$BATS_TEST_TMPDIR/export
  SERVER_LOG=$BATS_TEST_TMPDIR/server.log
  mkdir -p "$EXPORT"
  # The example's export (/srv/dafs) and TCP port are the administrator's:
  # the command line overrides them, the rest (threads = 2) is the file's.
  DAFS_PROBE_BIN=/usr/bin/dafs
  dafs_server_start /usr/sbin/dafs-server "$EXPORT" "$(dafs_shm_url dafs-deb)" "$SERVER_LOG" \
    --config /etc/dafs/dafs-server.conf || fail "$(dafs_server_report "$SERVER_LOG")"
  SERVER_PID=$DAFS_SERVER_PID
  url=$DAFS_SERVER_URL
  grep -q "2 workers" "$SERVER_LOG" || fail "threads = 2 of the config not applied: $(cat "$SERVER_LOG")"

  echo "written by the installed dafs" >"$BATS_TEST_TMPDIR/in"
  run timeout 30 /usr/bin/dafs --server "$url" put "$BATS_TEST_TMPDIR/in" /a.txt
  [ "$status" -eq 0 ] || fail "dafs put: $output"
  assert_equal "$(cat "$EXPORT/a.txt")" "written by the installed dafs"

  # The shim, preloaded by the installed dafs-run, reads and writes /dafs.
  run env DAFS_SERVER="$url" timeout 30 /usr/bin/dafs-run -- cat /dafs/a.txt
  [ "$status" -eq 0 ] || fail "dafs-run cat: $output"
  assert_output "written by the installed dafs"
  run env DAFS_SERVER="$url" timeout 30 /usr/bin/dafs-run -- sh -c 'echo via the shim > /dafs/b.txt'
  [ "$status" -eq 0 ] || fail "dafs-run write: $output"
  assert_equal "$(cat "$EXPORT/b.txt")" "via the shim"

  dafs_server_stop "$SERVER_PID"
  SERVER_PID=
  assert_equal "$DAFS_SERVER_STATUS" 0
}

@test "apt-get purge leaves none of their files behind" {
  [ -f "$STATE/installed" ] || fail "the packages are not installed"
  run env DEBIAN_FRONTEND=noninteractive timeout 300 "${APT[@]}" purge "${PACKAGES[@]}"
  [ "$status" -eq 0 ] || fail "apt-get purge: $output"
  ! installed_any || fail "still installed after purge"
  for p in "${PACKAGES[@]}"; do
    run dpkg-query -W -f='${Status}' "$p"
    [ "$status" -ne 0 ] || [ -z "$output" ] || [[ $output == *not-installed* ]] ||
      fail "$p is left as: $output"
  done
  # Every file they held is gone; directories remain only when shared.
  local left=()
  while read -r f; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    [ -d "$f" ] && [ ! -L "$f" ] && [ -n "$(ls -A "$f")" ] && continue
    [ -d "$f" ] && case $f in /etc/dafs|*/dafs) ;; *) continue ;; esac
    left+=("$f")
  done <"$STATE/files"
  [ ${#left[@]} -eq 0 ] || fail "left behind: ${left[*]}"
  [ ! -e /etc/dafs ] || fail "/etc/dafs is left: $(ls -la /etc/dafs)"
}
