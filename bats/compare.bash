# compare.bash — what bats/programs.bats adds to shim_helpers.bash: running
# one shell script in a fresh local directory and in a fresh directory under
# /dafs (through the shim), and comparing what the two runs did.
#
#   compare_setup     a server on $SHIM_TRANSPORT and the two empty work
#                     directories: $WORK_LOCAL, and $WORK_EXPORT (the server's
#                     side of $WORK_DAFS = /dafs/work)
#   same_run SCRIPT   (or the script on stdin, a quoted here-document)
#                     runs `bash -c SCRIPT` in each, with bats/programs-env.sh
#                     sourced first (a fixed environment and the fixture
#                     functions), and asserts equal stdout+stderr (each side's
#                     own directory spelled $D), equal exit status and equal
#                     trees (tree_listing)
#   tree_listing DIR  one line per entry below DIR: relative path, type, mode,
#                     owner, link count (files), size (not directories),
#                     content hash, symlink target, extended attributes, and
#                     the modification time where the script defined it
#                     (see below)
#
# Which modification times are compared: a script defines a time by setting
# it (touch -d, a fixture function) or by preserving it (cp -p, rsync -a,
# tar x); any other time is "when it ran". So a time more than an hour before
# the run started is compared exactly, nanoseconds included, and any other
# is listed as "now" — which the other side must match too (a preserved time
# lost on one side shows as a difference). Directory sizes and inode numbers
# are the file system's business and never listed.

WORK_DAFS=$DAFS_MOUNT/work
PROGRAMS_ENV=$BATS_TEST_DIRNAME/programs-env.sh

compare_setup() {
  start_server "$SHIM_TRANSPORT"
  WORK_LOCAL=$BATS_TEST_TMPDIR/local/work
  WORK_EXPORT=$EXPORT/work
  mkdir -p "$WORK_LOCAL" "$WORK_EXPORT"
  # What the scripts may use beside their directory: a scratch HOME (git,
  # python and others look there) outside both trees.
  PROGRAMS_HOME=$BATS_TEST_TMPDIR/home
  mkdir -p "$PROGRAMS_HOME"
  export PROGRAMS_HOME
}

tree_listing() {
  local dir=$1 since
  since=$(($(date +%s) - 3600))
  (
    cd "$dir" || exit 1
    find . -mindepth 1 -printf '%P\t%y\t%m\t%u:%g\t%n\t%s\t%T@\t%l\n' | LC_ALL=C sort |
      while IFS=$'\t' read -r path type mode owner links size mtime target; do
        local sum=- xattrs when=now
        [ "$type" = f ] && sum=$(sha256sum <"$path" | cut -c1-16)
        [ "$type" = d ] && { size=-; links=-; }
        [ "${mtime%.*}" -lt "$since" ] && when=$mtime
        xattrs=$(getfattr -h -d -m - --absolute-names -- "$path" 2>/dev/null | sed 1d | paste -sd, -)
        printf '%s %s %s %s links=%s size=%s sha=%s mtime=%s' "$path" "$type" "$mode" "$owner" \
          "$links" "$size" "$sum" "$when"
        [ "$type" = l ] && printf ' -> %s' "$target"
        [ -n "$xattrs" ] && printf ' xattrs=%s' "$xattrs"
        printf '\n'
      done
  )
}

same_run() {
  local script local_out dafs_out local_rc=0 dafs_rc=0
  if [ $# -gt 0 ]; then script=$1; else script=$(cat); fi
  local_out=$(cd "$WORK_LOCAL" && D=$WORK_LOCAL timeout "$DAFS_CMD_TIMEOUT" \
    bash -c "source '$PROGRAMS_ENV' && {
$script
}" 2>&1) || local_rc=$?
  dafs_out=$(cd / && D=$WORK_DAFS shimmed bash -c "cd '$WORK_DAFS' && source '$PROGRAMS_ENV' && {
$script
}" 2>&1) || dafs_rc=$?
  local_out=${local_out//$WORK_LOCAL/\$D}
  dafs_out=${dafs_out//$WORK_DAFS/\$D}
  local diffs=""
  if [ "$dafs_out" != "$local_out" ]; then
    diffs+=$'output differs (- local, + dafs):\n'
    diffs+=$(diff <(printf '%s\n' "$local_out") <(printf '%s\n' "$dafs_out") | sed -n '/^[<>]/p' |
      sed 's/^</-/; s/^>/+/' | head -n 40)
    diffs+=$'\n'
  fi
  [ "$dafs_rc" = "$local_rc" ] || diffs+="exit status: local $local_rc, dafs $dafs_rc"$'\n'
  local local_tree dafs_tree
  local_tree=$(tree_listing "$WORK_LOCAL")
  dafs_tree=$(tree_listing "$WORK_EXPORT")
  if [ "$dafs_tree" != "$local_tree" ]; then
    diffs+=$'trees differ (- local, + dafs):\n'
    diffs+=$(diff <(printf '%s\n' "$local_tree") <(printf '%s\n' "$dafs_tree") | sed -n '/^[<>]/p' |
      sed 's/^</-/; s/^>/+/' | head -n 40)
    diffs+=$'\n'
  fi
  [ -z "$diffs" ] || fail "$diffs"
}
