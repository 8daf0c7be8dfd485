#!/usr/bin/env bash
# Run the test suite on a fresh machine: creates .venv, installs the Python requirements,
# installs redis-server and redis-tools (the reference server, redis-cli and
# redis-benchmark the tests drive) and chromium (the headless browser that tests the
# cluster view) when they are missing, then runs pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
        || ! command -v redis-benchmark >/dev/null; then
    echo "== installing redis-server and redis-tools"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools
    # The Debian package starts a system redis on 6379; the tests never use it.
fi

if ! command -v chromium >/dev/null; then
    echo "== installing chromium (tests/integration/test_cluster_view.py)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import gevent, hiredis, msgpack, loguru, sortedcontainers, redis, pytest, pytest_timeout, hypothesis" 2>/dev/null \
        || [ requirements-dev.txt -nt .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
    echo "== installing Python requirements"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
    touch .venv/.installed
fi

exec .venv/bin/python -m pytest "$@"
