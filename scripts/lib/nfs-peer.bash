# nfs-peer.bash — the NFS server scripts/bench measures DAFS against (section
# i), and the CPU-bound load its busy rows run beside. Sourced.
#
# The server is a private nfs-ganesha (Debian's nfs-ganesha, FSAL VFS), NFSv4
# only, read through libnfs (tools/bench-nfs-read.c). It is the harness's
# own: its config, PID, log and recovery files live in a directory the
# caller gives, it is started and stopped by PID, and it runs in a network
# and mount namespace of its own (unshare), so that it touches nothing of
# the machine's: installing nfs-ganesha may have started the system's
# ganesha and rpcbind (systemd), and ganesha 4.3 unregisters NFSv4 from
# rpcbind at start and at exit (rpcb_unset), which would take the system
# server's registration with it. In its namespace there is no rpcbind
# (rpcbind's socket is covered with /dev/null, its port is another
# loopback's), no D-Bus (the same), and its port is free whatever the
# machine runs. Its clients join its network namespace (nfs_peer_run);
# loopback there is the same kernel path as the host's.
#
# The grace period, in which an NFSv4 server refuses reads until old clients
# reclaim their state, is off (NFSv4 { Graceless = true; }): the server
# answers at once, and nfs_peer_start checks that it does (a bounded wait
# for a probe file's bytes).
#
#   nfs_peer_start DIR EXPORT PORT
#       writes DIR/ganesha.conf, starts ganesha.nfsd exporting EXPORT as
#       /export on PORT in its own namespaces, and waits (at most
#       NFS_PEER_START_TIMEOUT s) until a read through libnfs returns a
#       probe file's bytes. Sets NFS_PEER_PID, NFS_PEER_URL (the export's
#       nfs:// URL with a %s for the file name) and NFS_PEER_VIA (the command
#       prefix that runs a program in its network namespace). Returns 1 (and says why on
#       stderr, with the end of the log) when it does not come up; the
#       process is then stopped.
#   nfs_peer_run CMD...
#       runs CMD in the server's network namespace ("${NFS_PEER_VIA[@]}" CMD)
#   nfs_peer_stop
#       SIGTERM, a wait of 10 s, then SIGKILL; sets NFS_PEER_STATUS (its exit
#       status; ganesha exits 0 on SIGTERM) and NFS_PEER_KILLED
#   nfs_peer_unavailable
#       prints why the NFS peer cannot run here (not root, a program
#       missing) and returns 0, or prints nothing and returns 1
#   busy_load_start
#       one CPU-bound process per core at nice 19 (awk spinning; each
#       bounded by timeout, BUSY_LOAD_MAX_S, should the harness itself be
#       killed); their PIDs in BUSY_LOAD_PIDS
#   busy_load_stop
#       stops them (SIGTERM to each PID, then reaps)

NFS_PEER_START_TIMEOUT=${NFS_PEER_START_TIMEOUT:-20}
NFS_PEER_PID='' NFS_PEER_URL='' NFS_PEER_VIA=() NFS_PEER_STATUS='' NFS_PEER_KILLED=0 NFS_PEER_DIR=''
BUSY_LOAD_MAX_S=${BUSY_LOAD_MAX_S:-1800}
BUSY_LOAD_PIDS=()

nfs_peer_unavailable() {
  local prog
  if [ "$(id -u)" -ne 0 ]; then
    echo "the NFS peer needs root: ganesha's FSAL VFS opens files by handle" \
         "(CAP_DAC_READ_SEARCH), and it runs in namespaces of its own (unshare, nsenter)"
    return 0
  fi
  for prog in ganesha.nfsd nfs-cat unshare nsenter ip; do
    if ! command -v "$prog" >/dev/null; then
      echo "$prog is not installed: run scripts/install-deps (nfs-ganesha, libnfs-utils)"
      return 0
    fi
  done
  return 1
}

nfs_peer_start() {
  local dir=$1 export=$2 port=$3 deadline probe_ok=0
  NFS_PEER_DIR=$dir
  mkdir -p "$dir/recovery" || return 1
  echo "dafs bench NFS peer probe" >"$export/nfs-probe" || return 1
  # NFSv4 only (no MOUNT, NLM, RQUOTA, UDP); no Bind_Addr: the namespace's
  # only interface is its loopback (and glibc's AI_ADDRCONFIG, which
  # ganesha resolves the address with, finds no IPv4 there without a
  # non-loopback address). Root keeps root: the bench's files are root's.
  cat >"$dir/ganesha.conf" <<EOF
NFS_CORE_PARAM {
  NFS_Port = $port;
  Protocols = 4;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}
NFSv4 {
  Graceless = true;
  RecoveryBackend = fs;
  RecoveryRoot = "$dir/recovery";
}
EXPORT {
  Export_Id = 1;
  Path = "$export";
  Pseudo = /export;
  Access_Type = RO;
  Squash = No_Root_Squash;
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  FSAL { Name = VFS; }
}
EOF
  # unshare execs (no --fork): the PID is ganesha's. fd 3 closed: bats
  # waits for every holder of it.
  unshare --mount --net --propagation private -- sh -c '
    ip link set lo up || exit 1
    for s in /run/rpcbind.sock /var/run/rpcbind.sock /run/dbus/system_bus_socket; do
      [ ! -S "$s" ] || mount --bind /dev/null "$s" || exit 1
    done
    exec ganesha.nfsd -F -f "$1/ganesha.conf" -L "$1/ganesha.log" -p "$1/ganesha.pid" -N NIV_EVENT
  ' nfs-peer "$dir" </dev/null >>"$dir/ganesha.out" 2>&1 3>&- &
  NFS_PEER_PID=$!
  NFS_PEER_URL="nfs://127.0.0.1/export/%s?version=4&nfsport=$port"
  NFS_PEER_VIA=(nsenter "--net=/proc/$NFS_PEER_PID/ns/net" --)
  deadline=$((SECONDS + NFS_PEER_START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$NFS_PEER_PID" 2>/dev/null || break
    # shellcheck disable=SC2059
    if [ "$(nfs_peer_run timeout 5 nfs-cat "$(printf "$NFS_PEER_URL" nfs-probe)" 2>/dev/null)" = \
         "dafs bench NFS peer probe" ]; then
      probe_ok=1
      break
    fi
    sleep 0.2
  done
  rm -f "$export/nfs-probe"
  [ "$probe_ok" = 0 ] || return 0
  if kill -0 "$NFS_PEER_PID" 2>/dev/null; then
    echo "nfs-ganesha (pid $NFS_PEER_PID) did not serve a read within $NFS_PEER_START_TIMEOUT s" >&2
    nfs_peer_stop
  else
    NFS_PEER_STATUS=0
    wait "$NFS_PEER_PID" 2>/dev/null || NFS_PEER_STATUS=$?
    echo "nfs-ganesha exited at start (status $NFS_PEER_STATUS)" >&2
    NFS_PEER_PID='' NFS_PEER_VIA=()
  fi
  echo "the end of its output and log ($dir):" >&2
  tail -n 5 "$dir/ganesha.out" "$dir/ganesha.log" 2>/dev/null | sed 's/^/  | /' >&2
  return 1
}

nfs_peer_run() {
  "${NFS_PEER_VIA[@]}" "$@"
}

nfs_peer_stop() {
  local pid=$NFS_PEER_PID deadline
  NFS_PEER_STATUS=0 NFS_PEER_KILLED=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    NFS_PEER_KILLED=1
  fi
  wait "$pid" 2>/dev/null || NFS_PEER_STATUS=$?
  NFS_PEER_PID='' NFS_PEER_VIA=()
  # A killed ganesha leaves its PID file.
  [ -z "$NFS_PEER_DIR" ] || rm -f "$NFS_PEER_DIR/ganesha.pid"
}

busy_load_start() {
  local i
  for i in $(seq "$(nproc)"); do
    timeout "$BUSY_LOAD_MAX_S" nice -n 19 awk 'BEGIN { for (;;) n++ }' </dev/null 3>&- &
    BUSY_LOAD_PIDS+=($!)
  done
}

busy_load_stop() {
  local pid
  for pid in "${BUSY_LOAD_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true   # timeout passes it on to awk
  done
  for pid in "${BUSY_LOAD_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true   # 124 or 143: how a stopped load ends
  done
  BUSY_LOAD_PIDS=()
}
