#!/usr/bin/env bash
# Make a virtual environment with Python ≥ 3.11, installing Debian's Python if needed.
set -eu
python=${1:-python3}
venv=${2:-.venv}
ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
if ! ok "$python"; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev gcc >/dev/null
    python=python3
  fi
  ok "$python" || { echo "bootstrap: Python >= 3.11 with venv is required" >&2; exit 1; }
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
