#!/usr/bin/env bash
# Quick start: install mediatool and run the main job on the bundled sample.
#
#   bash scripts/demo.sh [FOLDER]        (default FOLDER: ./mediatool-demo)
#
# Writes FOLDER/incoming (a messy set of "foreign" DICOM files made by `mediatool sample`) and
# burns it into the File-set FOLDER/disc (`mediatool build`). When python3 is an externally
# managed system Python (PEP 668, Debian 12+), mediatool is installed into ./.venv instead.
# It ends by saying where the `mediatool` command is and how to put it on PATH.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

# Debian splits pip and venv out of python3: install the one that is missing (root or sudo).
apt_install() {
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    if ! command -v apt-get >/dev/null 2>&1 || { ((${#sudo[@]})) && ! command -v sudo >/dev/null; }; then
        echo "scripts/demo.sh: $PYTHON lacks $1; install it (Debian/Ubuntu: apt-get install $1)" >&2
        exit 1
    fi
    echo "scripts/demo.sh: $PYTHON lacks $1: apt-get install $1" >&2
    "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "scripts/demo.sh: python3 not found (apt-get install python3 python3-venv)" >&2
    exit 1
fi
if "$PYTHON" - <<'PY'
import sys, sysconfig
from pathlib import Path
sys.exit(0 if Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists()
         and sys.prefix == sys.base_prefix else 1)
PY
then
    if [[ ! -x "$REPO_ROOT/.venv/bin/python" ]]; then
        "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
        "$PYTHON" -m venv "$REPO_ROOT/.venv"
    fi
    PYTHON="$REPO_ROOT/.venv/bin/python"
elif ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip
fi
# with the station's extra, so that `mediatool serve --demo` works right after
"$PYTHON" -m pip install --quiet --progress-bar off --disable-pip-version-check "$REPO_ROOT[station]"
"$PYTHON" -m mediatool demo "${1:-mediatool-demo}"

# Where pip put the `mediatool` command, and how to call it as README.md's examples do.
MEDIATOOL="$("$PYTHON" - <<'PY'
from importlib.metadata import distribution
from pathlib import Path
dist = distribution("mediatool")
for f in dist.files or ():
    if f.name == "mediatool" and f.parent.name == "bin":
        print(Path(str(dist.locate_file(f))).resolve())
        break
PY
)"
BIN_DIR="$(dirname -- "${MEDIATOOL:-$PYTHON}")"
if [[ -n $MEDIATOOL && "$(command -v mediatool || true)" -ef $MEDIATOOL ]]; then
    echo "mediatool is on your PATH ($MEDIATOOL): try  mediatool --help" >&2
elif [[ -n $MEDIATOOL && $BIN_DIR -ef $REPO_ROOT/.venv/bin ]]; then
    echo "mediatool is installed in $REPO_ROOT/.venv, not on your PATH. Put it there for this shell:" >&2
    echo "    source $REPO_ROOT/.venv/bin/activate" >&2
    echo "or call it by its full path: $MEDIATOOL --help" >&2
elif [[ -n $MEDIATOOL ]]; then
    echo "mediatool is installed as $MEDIATOOL, which is not what your PATH finds. Put it first:" >&2
    echo "    export PATH=\"$BIN_DIR:\$PATH\"" >&2
    echo "or call it by its full path: $MEDIATOOL --help" >&2
else
    echo "mediatool has no command script here; run it as: $PYTHON -m mediatool --help" >&2
fi
echo "The media station (web pages for the desks) on the same sample: mediatool serve --demo" >&2
