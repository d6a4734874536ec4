#!/usr/bin/env bash
# The one command to run the test-suite on a fresh Debian/Ubuntu machine:
#
#   scripts/test.sh [pytest args...]
#
# 1. installs (apt-get) the independent reference tools the tests use as oracles, but only
#    those whose commands are missing;
# 2. installs mediatool with its test extras:  python3 -m pip install -e '.[test]';
# 3. runs:  python3 -m pytest "$@"  (extra arguments pass through; "no tests collected",
#    pytest exit code 5, counts as a failure).
#
# Run it as root, or as a user with sudo. Environment:
#   PYTHON=/path/to/python3   interpreter to use (default: python3). If it is an "externally
#                             managed" system Python (PEP 668, Debian 12+/Ubuntu 23.04+) and
#                             not a virtualenv, a virtualenv .venv is created in the repository
#                             and used instead.
#   SKIP_APT=1                do not call apt-get (tools must already be installed).
set -euo pipefail

# Required tools: "command:debian-package". Add new oracles here (later issues: Orthanc and a
# headless browser, e.g. "Orthanc:orthanc" "chromium:chromium").
REQUIRED_TOOLS=(
    "dcmdump:dcmtk"
    "dcmmkdir:dcmtk"
    "dcmftest:dcmtk"
    "dciodvfy:dicom3tools"
    "dcdirdmp:dicom3tools"
    "dcentvfy:dicom3tools"
    "gdcmconv:libgdcm-tools"
    "xorriso:xorriso"
    "isoinfo:genisoimage"
    "genisoimage:genisoimage"  # also writes the DVD images (UDF 1.02 + ISO 9660, issue 16)
    "mkfs.fat:dosfstools"      # USB images: FAT16/FAT32 (PS3.12 Annex R); fsck.fat reads them
    "fsck.fat:dosfstools"
    "mcopy:mtools"             # fills and reads FAT images without mounting
    "mdir:mtools"
    "udfinfo:udftools"         # reads the UDF images back
    "7z:p7zip-full"            # extracts UDF images (7z x -tudf)
    "udfclient:udfclient"      # a second UDF reader (NetBSD's UDF code) for the 1.50/2.50/2.60 images
    "faketime:faketime"        # genisoimage at the build's date: reproducible DVD images
    "chromium:chromium"
    "Orthanc:orthanc"
    "initdb:postgresql"  # Debian: /usr/lib/postgresql/<v>/bin, not on PATH (has_tool looks)
)

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'scripts/test.sh: error: %s\n' "$*" >&2; exit 1; }

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()  # checked below, only if something has to be installed
fi

PYTHON="${PYTHON:-python3}"

# --- 1. system packages ----------------------------------------------------------------------
missing_tools=()
packages=()
add_package() {
    local p
    for p in "${packages[@]+"${packages[@]}"}"; do [[ $p == "$1" ]] && return 0; done
    packages+=("$1")
}
# a tool on PATH, or (PostgreSQL's server programs) in Debian's /usr/lib/postgresql/<v>/bin
has_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ -x "/usr/sbin/$1" || -x "/sbin/$1" ]] && return 0  # mkfs.fat, fsck.fat: not on a user's PATH
    compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}
for entry in "${REQUIRED_TOOLS[@]}"; do
    tool="${entry%%:*}" package="${entry#*:}"
    if ! has_tool "$tool"; then
        missing_tools+=("$tool")
        add_package "$package"
    fi
done

# Python itself, pip and venv (Debian splits them into separate packages).
python_is_externally_managed() {
    "$1" - <<'EOF'
import sys, sysconfig
from pathlib import Path
in_venv = sys.prefix != sys.base_prefix
marker = Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if marker.exists() and not in_venv else 1)
EOF
}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    [[ $PYTHON == python3 ]] || die "PYTHON=$PYTHON not found"
    add_package python3; add_package python3-pip; add_package python3-venv
    missing_tools+=(python3)
else
    if python_is_externally_managed "$PYTHON"; then
        if [[ ! -x .venv/bin/python ]] && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
            add_package python3-venv; missing_tools+=("python3 -m venv")
        fi
    elif ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        add_package python3-pip; missing_tools+=("python3 -m pip")
    fi
fi

if ((${#packages[@]})); then
    log "missing: ${missing_tools[*]} -> apt-get install ${packages[*]}"
    [[ ${SKIP_APT:-} == 1 ]] && die "SKIP_APT=1 but these are missing: ${missing_tools[*]}"
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found; install these Debian packages' equivalents: ${packages[*]}"
    if [[ $(id -u) -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "not root and sudo not available; run as root: apt-get install ${packages[*]}"
    fi
    "${SUDO[@]+"${SUDO[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${SUDO[@]+"${SUDO[@]}"}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${packages[@]}"
    for tool in "${missing_tools[@]}"; do
        case $tool in
            python3*) ;;
            *) has_tool "$tool" || die "$tool still missing after apt-get install" ;;
        esac
    done
else
    log "reference tools present: ${REQUIRED_TOOLS[*]%%:*}"
fi

# --- 2. Python package with test extras ------------------------------------------------------
if python_is_externally_managed "$PYTHON"; then
    if [[ ! -x .venv/bin/python ]]; then
        log "$PYTHON is externally managed (PEP 668): creating virtualenv .venv"
        "$PYTHON" -m venv .venv
    fi
    PYTHON="$REPO_ROOT/.venv/bin/python"
fi
log "$PYTHON -m pip install -e '.[test]'"
"$PYTHON" -m pip install --progress-bar off -e '.[test]'

# --- 3. tests --------------------------------------------------------------------------------
log "$PYTHON -m pytest $*"
status=0
"$PYTHON" -m pytest "$@" || status=$?
if ((status == 5)); then
    printf 'scripts/test.sh: error: pytest collected no tests (exit code 5)\n' >&2
fi
exit "$status"
