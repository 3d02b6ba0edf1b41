# A private Docker engine for the test suite (sourced by scripts/test, not run).
#
# Each run gets its own directory /tmp/layerscope-dockerd.XXXXXX (short, so the unix socket
# paths inside stay under the 108-byte limit wherever the repo is cloned) holding the socket,
# pidfile, data-root, exec-root and log. The directory records the PID of the script that owns
# it; a directory whose owner is gone is a leftover of a killed run and is cleaned up first.
# Concurrent runs (two sessions in one machine) each get their own engine.

LAYERSCOPE_DOCKER_CLI=${LAYERSCOPE_DOCKER_CLI:-/usr/bin/docker}
DOCKERD_PREFIX=/tmp/layerscope-dockerd.

# _umount_under DIR: lazily unmount every mount point below DIR, deepest first.
_umount_under() {
    local dir=$1 mp
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
        sort -r | while read -r mp; do umount -l "$mp" 2>/dev/null || true; done
}

# _kill_pidfile FILE NAME: TERM the process in FILE, wait up to 20 s, then KILL it.
_kill_pidfile() {
    local file=$1 name=$2 pid i
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null) || return 0
    case $pid in '' | *[!0-9]*) return 0 ;; esac
    kill -0 "$pid" 2>/dev/null || return 0
    # Only a process whose command line names this very file (or its run dir) is ours.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "${file%/*}" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    log "$name (pid $pid) ignored TERM for 20 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# stop_dockerd DIR: stop the engine (and its containerd) of run directory DIR and remove DIR.
stop_dockerd() {
    local dir=$1
    [ -d "$dir" ] || return 0
    _kill_pidfile "$dir/docker.pid" dockerd
    _kill_pidfile "$dir/exec/containerd/containerd.pid" containerd
    _umount_under "$dir"
    rm -rf "$dir" 2>/dev/null || { _umount_under "$dir"; rm -rf "$dir" || true; }
}

# cleanup_stale_dockerd: stop engines left by runs of this script that no longer exist.
cleanup_stale_dockerd() {
    local dir owner
    for dir in "$DOCKERD_PREFIX"*; do
        [ -d "$dir" ] || continue
        owner=$(cat "$dir/owner" 2>/dev/null || echo "")
        if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
            continue # a live run (maybe another session's) owns it
        fi
        log "stopping a leftover engine from a previous run: $dir"
        stop_dockerd "$dir"
    done
}

# start_dockerd: start a private dockerd, wait until it answers, export DOCKER_HOST.
# Sets DOCKERD_DIR. Fails (exit 1) with the tail of the engine log if it is not up in 60 s.
start_dockerd() {
    [ -x "$LAYERSCOPE_DOCKER_CLI" ] || die "docker client $LAYERSCOPE_DOCKER_CLI not found"
    command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
    cleanup_stale_dockerd
    DOCKERD_DIR=$(mktemp -d "${DOCKERD_PREFIX}XXXXXX") || die "mktemp failed"
    echo "$$" >"$DOCKERD_DIR/owner"
    # An empty config file keeps /etc/docker/daemon.json (if any) from clashing with our flags.
    echo '{}' >"$DOCKERD_DIR/daemon.json"
    mkdir -p "$DOCKERD_DIR/client-config"
    local sock="$DOCKERD_DIR/docker.sock" t0 i
    t0=$(date +%s.%N)
    log "starting dockerd in $DOCKERD_DIR"
    dockerd \
        --config-file="$DOCKERD_DIR/daemon.json" \
        -H "unix://$sock" \
        --data-root="$DOCKERD_DIR/data" \
        --exec-root="$DOCKERD_DIR/exec" \
        --pidfile="$DOCKERD_DIR/docker.pid" \
        --storage-driver=vfs \
        --iptables=false --ip-masq=false --ip-forward=false --bridge=none \
        >"$DOCKERD_DIR/dockerd.log" 2>&1 </dev/null &
    DOCKERD_LAUNCH_PID=$!
    export DOCKER_HOST="unix://$sock"
    # Our own client config: no contexts or credential helpers from ~/.docker.
    export DOCKER_CONFIG="$DOCKERD_DIR/client-config"
    export LAYERSCOPE_DOCKER_CLI
    for i in $(seq 1 120); do
        if "$LAYERSCOPE_DOCKER_CLI" version >/dev/null 2>&1; then
            log "dockerd ready after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" \
                "(DOCKER_HOST=$DOCKER_HOST)"
            return 0
        fi
        if ! kill -0 "$DOCKERD_LAUNCH_PID" 2>/dev/null; then
            break
        fi
        sleep 0.5
    done
    log "dockerd did not answer within 60 s; last lines of $DOCKERD_DIR/dockerd.log:"
    tail -n 40 "$DOCKERD_DIR/dockerd.log" >&2 || true
    die "could not start the Docker engine"
}
