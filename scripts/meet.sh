#!/usr/bin/env bash
# Join nodes into one cluster: send CLUSTER MEET <peer> to a first node for every peer.
#
#   scripts/meet.sh IP PORT PEER [PEER ...]
#   PEER := IP PORT | PORT        (a bare PORT reuses the last IP given)
#
#   scripts/meet.sh 127.0.0.1 7001 127.0.0.1 7002           # CLUSTER MEET 127.0.0.1 7002 to 7001
#   scripts/meet.sh 127.0.0.1 7001 7002 7003                # 7002 and 7003 on 127.0.0.1
#   scripts/meet.sh 127.0.0.1 7001 10.0.0.2 7001 7002       # 10.0.0.2:7001 and 10.0.0.2:7002
#
# Gossip does the rest: once every node has met the first, all of them learn about all.
# A token is an IP unless it is all digits. Uses redis-cli when it is on PATH, otherwise
# bash's /dev/tcp with RESP written by hand, so it needs nothing installed but bash.
# REDISCLI_AUTH (as redis-cli reads it) is sent as AUTH first when set.
# Exit status: 0 when every MEET got +OK; 1 with a message on stderr otherwise; 2 on usage.

usage() {
    sed -n '2,8p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//' >&2 \
        || echo "usage: meet.sh IP PORT PEER [PEER ...], PEER := IP PORT | PORT" >&2
    exit 2
}

is_port() {
    [[ $1 =~ ^[0-9]+$ ]] && (( 10#$1 >= 1 && 10#$1 <= 65535 ))
}

# Write a RESP array of bulk strings to stdout. printf straight to the stream, not through
# $(...), which would strip the final CRLF's newline. ${#arg} counts characters; IPs and
# ports are ASCII.
resp_command() {
    local arg
    printf '*%d\r\n' "$#"
    for arg in "$@"; do
        printf '$%d\r\n%s\r\n' "${#arg}" "$arg"
    done
}

# One command over /dev/tcp; prints the first reply line (without CR); fails when the
# connection cannot be made or no reply comes within 5 seconds.
tcp_call() {
    local host=$1 port=$2 line
    shift 2
    # In a group so that bash's own "connect: Connection refused" is silenced while fd 3
    # stays open after it.
    if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
        echo "meet.sh: cannot connect to $host:$port" >&2
        return 1
    fi
    if [[ -n ${REDISCLI_AUTH:-} ]]; then
        resp_command AUTH "$REDISCLI_AUTH" >&3
        IFS= read -r -t 5 line <&3
        line=${line%$'\r'}
        if [[ $line != "+OK" ]]; then
            exec 3<&-
            printf '%s\n' "${line:-no reply to AUTH}"
            return 0
        fi
    fi
    resp_command "$@" >&3
    if ! IFS= read -r -t 5 line <&3; then
        exec 3<&-
        echo "meet.sh: no reply from $host:$port" >&2
        return 1
    fi
    exec 3<&-
    printf '%s\n' "${line%$'\r'}"
}

# CLUSTER MEET peer_ip peer_port sent to host:port. Prints nothing on success.
meet() {
    local host=$1 port=$2 peer_ip=$3 peer_port=$4 reply
    if command -v redis-cli >/dev/null 2>&1; then
        # redis-cli prints a status reply as its text (OK) and an error as "ERR ...".
        if ! reply=$(redis-cli -h "$host" -p "$port" CLUSTER MEET "$peer_ip" "$peer_port" 2>&1); then
            [[ -n $reply ]] || reply="redis-cli failed"
        fi
        reply=${reply#(error) }
        [[ $reply == "OK" ]] && return 0
    else
        reply=$(tcp_call "$host" "$port" CLUSTER MEET "$peer_ip" "$peer_port") || return 1
        [[ $reply == "+OK" ]] && return 0
        reply=${reply#-}
    fi
    echo "meet.sh: CLUSTER MEET $peer_ip $peer_port sent to $host:$port failed: $reply" >&2
    return 1
}

(( $# >= 3 )) || usage
first_ip=$1
first_port=$2
is_port "$first_port" || { echo "meet.sh: bad port '$first_port'" >&2; usage; }
shift 2

# Parse the peers first, so a typo anywhere is reported before anything is sent.
peers=()
ip=$first_ip
while (( $# > 0 )); do
    if [[ $1 =~ ^[0-9]+$ ]]; then
        is_port "$1" || { echo "meet.sh: bad port '$1'" >&2; exit 2; }
        peers+=("$ip $1")
        shift
    else
        ip=$1
        (( $# >= 2 )) || { echo "meet.sh: IP '$ip' has no port after it" >&2; exit 2; }
        is_port "$2" || { echo "meet.sh: bad port '$2' after IP '$ip'" >&2; exit 2; }
        peers+=("$ip $2")
        shift 2
    fi
done

status=0
for peer in "${peers[@]}"; do
    read -r peer_ip peer_port <<<"$peer"
    meet "$first_ip" "$first_port" "$peer_ip" "$peer_port" || status=1
done
exit $status
