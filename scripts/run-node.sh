#!/usr/bin/env bash
# Start one node on a fresh machine: creates .venv and installs requirements if missing.
#   scripts/run-node.sh [PORT] [more node.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import gevent, hiredis, msgpack, loguru, sortedcontainers" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
fi
port="${1:-7001}"
shift || true
exec .venv/bin/python node.py -p "$port" "$@"
