# Shared helpers for scripts/test and scripts/demo (sourced, not run).
# Everything here is idempotent: running it twice, or on a machine where the
# packages and the venv already exist, does no extra work.

# log MESSAGE...: one line on stderr, prefixed so it stands out in CI logs.
log() { printf '[layerscope %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die MESSAGE...: log and exit 1.
die() { log "ERROR: $*"; exit 1; }

# ensure_apt_packages PKG...: apt-get install the packages that are not installed yet.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    log "apt-get install ${missing[*]}"
    # Keep package scripts from starting services (a system dockerd, a registry) we do not want:
    # policy-rc.d exit 101 = "action forbidden" for invoke-rc.d. Only ours is removed afterwards.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || rc=$?
    if [ "$rc" -eq 0 ]; then
        apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null || rc=$?
    fi
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
    [ "$rc" -eq 0 ] || die "apt-get failed (exit $rc) installing ${missing[*]}"
}

# find_python: print a python3 interpreter that is >= 3.11.
find_python() {
    local cand
    for cand in python3.13 python3.12 python3.11 python3 /usr/bin/python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

# ensure_venv REPO EXTRAS: create REPO/.venv if missing and pip install -e 'REPO[EXTRAS]'.
# The install is skipped when pyproject.toml and the extras are unchanged since the last one.
ensure_venv() {
    local repo=$1 extras=$2 venv="$1/.venv" py
    if [ ! -x "$venv/bin/python" ]; then
        py=$(find_python) || die "no python3 >= 3.11 found (apt-get install python3)"
        log "creating $venv with $py"
        if ! "$py" -m venv "$venv" 2>/dev/null; then
            # Debian's own python3 keeps venv (and ensurepip) in a package of its own
            rm -rf "$venv"
            if [ "$(id -u)" -eq 0 ]; then
                ensure_apt_packages python3-venv
            fi
            "$py" -m venv "$venv" || die "python -m venv failed (apt-get install python3-venv)"
        fi
    fi
    local spec="$repo"
    [ -n "$extras" ] && spec="$repo[$extras]"
    local stamp="$venv/.layerscope-install-stamp" want
    # (setup.py and the C sources too: a change to them must rebuild the extensions)
    want="$(cat "$repo/pyproject.toml" "$repo/setup.py" "$repo/native/"*.c 2>/dev/null |
        sha256sum | cut -d' ' -f1) $extras"
    # A test-extras install also satisfies a plain one (scripts/demo after scripts/test).
    if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] ||
        { [ -z "$extras" ] && [ "$(cut -d' ' -f1 "$stamp")" = "${want% }" ]; }; } &&
        "$venv/bin/python" -c 'import layerscope' 2>/dev/null; then
        return 0
    fi
    log "pip install -e '$spec'"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" ||
        die "pip install -e '$spec' failed"
    printf '%s\n' "$want" >"$stamp"
}
