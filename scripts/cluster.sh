#!/usr/bin/env bash
# Run a local cluster of node.py processes on loopback.
#
#   scripts/cluster.sh start [N] [REPLICAS]   N nodes on 7001.. (default 6, 1 replica each)
#   scripts/cluster.sh status                 a table of nodes, roles, slots, state
#   scripts/cluster.sh stop                   stop the nodes (data stays in run/cluster)
#   scripts/cluster.sh restart PORT           stop one node (SIGTERM) and start it again:
#                                             it rejoins from its nodes.conf and data
#   scripts/cluster.sh clean                  stop and delete run/cluster
#
# Creates .venv and installs the requirements if missing. The cluster is created with
# `redis-cli --cluster create` when redis-cli exists, else with scripts/meet.sh and
# CLUSTER ADDSLOTSRANGE. Environment: BASE_PORT (7001), NODE_TIMEOUT (5000 ms),
# SYNC_DELAY (repl-diskless-sync-delay, 0 s: replicas sync at once; Redis's default is 5),
# NODE_ARGS (more options for every node, e.g. "--appendonly yes": an AOF per node).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN="$ROOT/run/cluster"
BASE_PORT="${BASE_PORT:-7001}"
NODE_TIMEOUT="${NODE_TIMEOUT:-5000}"
SYNC_DELAY="${SYNC_DELAY:-0}"
NODE_ARGS="${NODE_ARGS:-}"

ensure_venv() {
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv"
        python3 -m venv .venv
    fi
    if ! .venv/bin/python -c "import gevent, hiredis, msgpack, loguru, sortedcontainers" 2>/dev/null; then
        echo "installing requirements"
        .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    fi
}

# Send one command to a node and print the reply: redis-cli when present, else RESP by
# hand over bash's /dev/tcp (enough for the simple replies used here).
call() {
    local port=$1
    shift
    if command -v redis-cli >/dev/null; then
        redis-cli -p "$port" "$@"
        return
    fi
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    local req="*$#\r\n" arg
    for arg in "$@"; do req+="\$${#arg}\r\n$arg\r\n"; done
    printf "%b" "$req" >&3
    local line
    IFS= read -r -t 5 line <&3 || true
    line=${line%$'\r'}
    if [[ $line == \$* && ${line:1} -gt 0 ]]; then
        head -c "$((${line:1} + 2))" <&3 | tr -d '\r'
    else
        echo "${line:1}"
    fi
    exec 3>&-
}

ports() {
    [ -f "$RUN/ports" ] && cat "$RUN/ports"
}

start() {
    local n=${1:-6} replicas=${2:-1}
    [ "$replicas" -gt 0 ] || replicas=0
    if [ -f "$RUN/ports" ] && [ -n "$(running_pids)" ]; then
        echo "a cluster is already running (scripts/cluster.sh status / stop)"
        exit 1
    fi
    local masters=$(( n / (replicas + 1) ))
    if [ "$masters" -lt 3 ]; then
        echo "need at least 3 masters: N / (REPLICAS + 1) >= 3"
        exit 1
    fi
    ensure_venv
    mkdir -p "$RUN"
    : > "$RUN/ports"
    local i port
    for ((i = 0; i < n; i++)); do
        port=$((BASE_PORT + i))
        echo "$port" >> "$RUN/ports"
        start_node "$port"
    done
    for port in $(ports); do
        wait_for_ping "$port"
    done
    if [ "$replicas" -gt 0 ] && call "$BASE_PORT" CLUSTER REPLICATE 0 2>&1 | grep -q "unknown subcommand"; then
        echo "note: this build has no replicas yet (CLUSTER REPLICATE is missing): creating $n masters"
        replicas=0
    fi
    if [ -n "$(call "$BASE_PORT" CLUSTER INFO | grep 'cluster_slots_assigned:[1-9]')" ]; then
        echo "nodes restarted from their nodes.conf"
    elif command -v redis-cli >/dev/null; then
        local addrs=()
        for port in $(ports); do addrs+=("127.0.0.1:$port"); done
        redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes
    else
        create_without_redis_cli "$masters"
    fi
    wait_for_ok
    status
}

# One node.py in the background, its folder run/cluster/PORT (data, nodes.conf, log, pid).
start_node() {
    local port=$1
    mkdir -p "$RUN/$port"
    .venv/bin/python node.py -p "$port" --dir "$RUN/$port" \
        --cluster-node-timeout "$NODE_TIMEOUT" --logfile "$RUN/$port/node.log" \
        --repl-diskless-sync-delay "$SYNC_DELAY" \
        $NODE_ARGS >/dev/null 2>&1 &
    echo $! > "$RUN/$port/pid"
}

wait_for_ping() {
    local port=$1
    for _ in $(seq 1 100); do
        call "$port" PING 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    return 1
}

node_pid() {
    local pidfile="$RUN/$1/pid"
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
    true
}

restart() {
    local port=${1:-}
    if [ -z "$port" ] || ! ports | grep -qx "$port"; then
        echo "usage: scripts/cluster.sh restart PORT (one of: $(ports | tr '\n' ' '))"
        exit 2
    fi
    ensure_venv
    local pid
    pid=$(node_pid "$port")
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            [ -z "$(node_pid "$port")" ] && break
            sleep 0.1
        done
        pid=$(node_pid "$port")
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
        echo "stopped $port"
    fi
    start_node "$port"
    if ! wait_for_ping "$port"; then
        echo "node $port did not start: see $RUN/$port/node.log"
        exit 1
    fi
    echo "started $port (pid $(cat "$RUN/$port/pid"))"
}

wait_for_ok() {
    local port deadline=$((SECONDS + 30))
    for port in $(ports); do
        until call "$port" CLUSTER INFO 2>/dev/null | grep -q "cluster_state:ok"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "warning: node $port is not cluster_state:ok after 30 s"
                break
            fi
            sleep 0.2
        done
    done
}

create_without_redis_cli() {
    local masters=$1 i=0 port start end per=$((16384 / masters))
    echo "redis-cli not found: meeting nodes with scripts/meet.sh and assigning slots"
    scripts/meet.sh 127.0.0.1 $(ports)
    for port in $(ports); do
        if [ "$i" -lt "$masters" ]; then
            start=$((i * per))
            end=$(( i == masters - 1 ? 16383 : (i + 1) * per - 1 ))
            call "$port" CLUSTER ADDSLOTSRANGE "$start" "$end" >/dev/null
        else
            local master_port=$((BASE_PORT + (i - masters) % masters))
            sleep 1
            call "$port" CLUSTER REPLICATE "$(call "$master_port" CLUSTER MYID)" || true
        fi
        i=$((i + 1))
    done
}

running_pids() {
    local port
    for port in $(ports); do
        node_pid "$port"
    done
}

status() {
    if [ -z "$(ports)" ]; then
        echo "no cluster (scripts/cluster.sh start)"
        return
    fi
    printf "%-6s %-8s %-7s %-8s %-9s %s\n" PORT PID ROLE STATE ID SLOTS
    local port
    for port in $(ports); do
        local pid="-" role="down" state="-" id="-" slots=""
        [ -f "$RUN/$port/pid" ] && pid=$(cat "$RUN/$port/pid")
        if call "$port" PING 2>/dev/null | grep -q PONG; then
            local line
            line=$(call "$port" CLUSTER NODES | grep myself || true)
            id=$(echo "$line" | awk '{print substr($1, 1, 8)}')
            role=$(echo "$line" | awk '{print $3}' | sed 's/myself,//')
            slots=$(echo "$line" | cut -d' ' -f9- )
            [ "$role" = "slave" ] && slots="replica of $(echo "$line" | awk '{print substr($4, 1, 8)}')"
            state=$(call "$port" CLUSTER INFO | tr -d '\r' | awk -F: '/cluster_state/ {print $2}')
        fi
        printf "%-6s %-8s %-7s %-8s %-9s %s\n" "$port" "$pid" "$role" "$state" "$id" "$slots"
    done
}

stop() {
    local pids
    pids=$(running_pids)
    if [ -z "$pids" ]; then
        echo "no node running"
        return
    fi
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 50); do
        [ -z "$(running_pids)" ] && break
        sleep 0.1
    done
    pids=$(running_pids)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    echo "stopped"
}

clean() {
    stop
    rm -rf "$RUN"
    rmdir "$ROOT/run" 2>/dev/null || true
    echo "removed $RUN"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) stop ;;
    restart) shift; restart "$@" ;;
    status) status ;;
    clean) clean ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
