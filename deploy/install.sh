#!/bin/sh
# Install ClauseWarden on a Debian or Ubuntu server (docs/deploy.md, step 2), as root, from the
# source folder or a built wheel:
#
#   sh deploy/install.sh [--python PATH] [--check-python] [--get-python] [SOURCE_OR_WHEEL]
#
# It finds a Python of at least 3.12 that the service's users (clausewarden, clausewarden-proxy)
# can run, makes the virtual environment /opt/clausewarden with it, installs ClauseWarden into it
# (pip fetches mitmproxy, aiohttp and the rest from PyPI) and links /usr/local/bin/clausewarden.
# A Python too old, or one the service's users cannot run (one under /root, as pyenv and uv put
# it by default), is refused in one line naming the fix, before anything is written.
#
#   --python PATH    use this Python (else: python3.13, python3.12, python3 on PATH, then
#                    /opt/clausewarden-python, where --get-python or a build from source put one)
#   --check-python   only find and check the Python, and say which
#   --get-python     for Debian 12 (Python 3.11): put a Python 3.12 in /opt/clausewarden-python
#                    with uv (which downloads it from python-build-standalone on GitHub)
#
# Environment: CLAUSEWARDEN_VENV (default /opt/clausewarden), CLAUSEWARDEN_USERS (default
# "clausewarden clausewarden-proxy"; users that do not exist yet are checked as "nobody").
set -eu

VENV=${CLAUSEWARDEN_VENV:-/opt/clausewarden}
USERS=${CLAUSEWARDEN_USERS:-clausewarden clausewarden-proxy}
PYTHON_HOME=/opt/clausewarden-python
GUIDE="docs/deploy.md, 'Python 3.12 or later'"
NEED_MAJOR=3
NEED_MINOR=12

say() { printf '%s\n' "install.sh: $*" >&2; }
fail() { say "$*"; exit 2; }

python=""
check_only=0
get_python=0
source=""
while [ $# -gt 0 ]; do
    case "$1" in
        --python) [ $# -ge 2 ] || fail "--python needs a path"; python=$2; shift 2 ;;
        --python=*) python=${1#--python=}; shift ;;
        --check-python) check_only=1; shift ;;
        --get-python) get_python=1; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) fail "unknown option $1 (see sh deploy/install.sh --help)" ;;
        *) source=$1; shift ;;
    esac
done

# The version of Python $1 as "3 12 1", or nothing when it cannot be run.
version_of() {
    "$1" -c 'import sys; print(*sys.version_info[:3])' 2>/dev/null || true
}

new_enough() {
    set -- $1
    [ "$1" -gt "$NEED_MAJOR" ] || { [ "$1" -eq "$NEED_MAJOR" ] && [ "$2" -ge "$NEED_MINOR" ]; }
}

# Run "$@" as user $1 (root drops to it; nobody stands in for a user not made yet).
as_user() {
    runs_as=$1; shift
    id -u "$runs_as" >/dev/null 2>&1 || runs_as=nobody
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$runs_as" --regid="$(id -g "$runs_as")" --clear-groups -- "$@"
    else
        "$@"
    fi
}

# Empty when every service user can run Python $1; else the first user that cannot.
user_who_cannot_run() {
    for user in $USERS; do
        if ! as_user "$user" "$1" -c 'pass' >/dev/null 2>&1; then
            printf '%s' "$user"
            return
        fi
    done
}

get_python() {
    [ "$(id -u)" -eq 0 ] || fail "--get-python puts Python in $PYTHON_HOME: run it as root"
    system=$(command -v python3) || fail "no python3 to run uv with: apt-get install -y python3 python3-venv"
    "$system" -m venv "$PYTHON_HOME/uv" >/dev/null 2>&1 ||
        fail "$system -m venv failed: apt-get install -y python3-venv, then run this again"
    "$PYTHON_HOME/uv/bin/pip" install --quiet uv
    "$PYTHON_HOME/uv/bin/uv" python install "$NEED_MAJOR.$NEED_MINOR" --install-dir "$PYTHON_HOME"
    found=$(ls -d "$PYTHON_HOME"/cpython-"$NEED_MAJOR.$NEED_MINOR".*/bin/python3 2>/dev/null | tail -n 1)
    [ -n "$found" ] || fail "uv installed no Python $NEED_MAJOR.$NEED_MINOR in $PYTHON_HOME"
    ln -sfn "$found" "$PYTHON_HOME/bin-python3"
    say "Python $(version_of "$found" | tr ' ' .) in $found (linked as $PYTHON_HOME/bin-python3)"
}

[ "$get_python" -eq 0 ] || get_python

too_old=""
cannot_run=""
choose() {
    candidate=$1
    version=$(version_of "$candidate")
    [ -n "$version" ] || return 1
    if ! new_enough "$version"; then
        [ -n "$too_old" ] || too_old="$candidate is Python $(printf '%s' "$version" | tr ' ' .)"
        return 1
    fi
    who=$(user_who_cannot_run "$candidate")
    if [ -n "$who" ]; then
        [ -n "$cannot_run" ] || cannot_run="$candidate (Python $(printf '%s' "$version" | tr ' ' .)) cannot be run by the user $who"
        return 1
    fi
    python=$candidate
    python_version=$(printf '%s' "$version" | tr ' ' .)
}

if [ -n "$python" ]; then
    given=$python
    python=""
    [ -n "$(version_of "$given")" ] || fail "--python $given cannot be run: give the path of a Python $NEED_MAJOR.$NEED_MINOR or later"
    choose "$given" || true
else
    for name in python3.13 python3.12 python3; do
        path=$(command -v "$name" 2>/dev/null) || continue
        choose "$path" && break
    done
    if [ -z "$python" ]; then  # where --get-python, or a build from source, put one
        for path in "$PYTHON_HOME/bin-python3" "$PYTHON_HOME"/bin/python3.1[2-9]; do
            [ -x "$path" ] || continue
            choose "$path" && break
        done
    fi
fi

if [ -z "$python" ]; then
    if [ -n "$cannot_run" ]; then
        fail "$cannot_run (a Python under /root, as pyenv or uv put it, is root's alone): use the system's, or sh deploy/install.sh --get-python, which puts one in $PYTHON_HOME ($GUIDE)"
    fi
    fail "${too_old:-no python3 found}; ClauseWarden needs Python $NEED_MAJOR.$NEED_MINOR or later: on Debian 12, sh deploy/install.sh --get-python; on Ubuntu 22.04, python3.12 from the deadsnakes PPA ($GUIDE)"
fi

say "Python $python_version at $python, which $USERS can run"
[ "$check_only" -eq 0 ] || exit 0

[ -n "$source" ] || source=$(cd "$(dirname "$0")/.." && pwd)
[ -e "$source" ] || fail "$source: no such wheel or source folder"
if [ ! -x "$VENV/bin/python" ]; then
    "$python" -m venv "$VENV" >/dev/null 2>&1 ||
        fail "$python -m venv $VENV failed: install its venv module (apt-get install -y python3-venv, or python$NEED_MAJOR.$NEED_MINOR-venv), then run this again"
fi
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install --quiet --upgrade "$source"
ln -sfn "$VENV/bin/clausewarden" /usr/local/bin/clausewarden 2>/dev/null || true
for user in $USERS; do
    as_user "$user" "$VENV/bin/clausewarden" --help >/dev/null ||
        fail "$VENV/bin/clausewarden cannot be run by the user $user: check the folders' modes (chmod 755)"
done
say "installed $("$VENV/bin/python" -c 'from importlib.metadata import version; print("clausewarden", version("clausewarden"))') in $VENV; /usr/local/bin/clausewarden runs it"
