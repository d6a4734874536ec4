#!/usr/bin/env bash
# Quick start: install mediatool and run the main job on the bundled sample.
#
#   bash scripts/demo.sh [FOLDER]        (default FOLDER: ./mediatool-demo)
#
# Writes FOLDER/incoming (a messy set of "foreign" DICOM files made by `mediatool sample`) and
# burns it into the File-set FOLDER/disc (`mediatool build`). When python3 is an externally
# managed system Python (PEP 668, Debian 12+), mediatool is installed into ./.venv instead.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
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
    [[ -x "$REPO_ROOT/.venv/bin/python" ]] || "$PYTHON" -m venv "$REPO_ROOT/.venv"
    PYTHON="$REPO_ROOT/.venv/bin/python"
fi
"$PYTHON" -m pip install --quiet --progress-bar off --disable-pip-version-check "$REPO_ROOT"
"$PYTHON" -m mediatool demo "${1:-mediatool-demo}"
if [[ $PYTHON == "$REPO_ROOT/.venv/bin/python" ]]; then
    echo "(mediatool is installed in $REPO_ROOT/.venv: run it as $REPO_ROOT/.venv/bin/mediatool)" >&2
fi
