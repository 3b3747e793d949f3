#!/usr/bin/env bash
# Edge benchmark: what a player costs on an edge against on its origin (same
# run, ratio), and the delay one edge hop adds, everything on 127.0.0.1.
#
#   1. an origin and an edge of it (rtmp-server, `cluster { mode remote; }`),
#      one publisher on the origin: ffmpeg -re -stream_loop -1 -c copy of a
#      generated H.264 + AAC file of about 500 kbit/s (2 s GOP);
#   2. N RTMP players (rtmp-load) on the origin for DURATION seconds: the
#      origin's CPU time (utime + stime from /proc/PID/stat) over the run;
#   3. N players on the edge for DURATION seconds: the edge's CPU time, and
#      the origin's meanwhile (it serves one player, the edge's pull);
#   4. edge-delay: one player on the origin and one on the edge for
#      DELAY_SECS, the same frames' arrival times compared (median, p95).
# Then one Markdown table: CPU ms per player-second on each, their ratio
# (edge / origin), the upstream's cost on the origin, and the added delay.
#
# Usage (from anywhere):
#   bench/edge.sh
#   N="500 1000" DURATION=20 bench/edge.sh
#
# Environment:
#   N           player counts (default "200 1000")
#   DURATION    seconds of each player run (default 20)
#   DELAY_SECS  seconds of the delay measurement (default 10)
#   WORKERS     both servers' `workers` (default 1)
#   PROFILE     release (default) or debug: which build to run
#   SKIP_BUILD=1  use the binaries already built
#   KEEP=1      keep the work directory (configs, logs)
#   CARGO_TARGET_DIR  where the binaries are (default ./target)
#
# Bounded: every step has a timeout; only processes this script started are
# stopped, by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-"200 1000"}
DURATION=${DURATION:-20}
DELAY_SECS=${DELAY_SECS:-10}
WORKERS=${WORKERS:-1}
PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/$PROFILE
WORK=$(mktemp -d /tmp/rtmp-edge-bench.XXXXXX)
STARTED_PIDS=()

log() { echo "edge-bench: $*" >&2; }

stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT

# CPU time of PID so far, in milliseconds.
cpu_ms() {
    local ticks
    ticks=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# A free loopback port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

if [[ -z ${SKIP_BUILD:-} ]]; then
    log "building ($PROFILE)"
    flag=()
    [[ $PROFILE == release ]] && flag=(--release)
    (cd "$ROOT" && timeout 3600 cargo build "${flag[@]}" -p server-tokio -p bench --bins)
fi
for b in rtmp-server rtmp-load edge-delay; do
    [[ -x $BIN/$b ]] || { log "missing $BIN/$b (build it, or unset SKIP_BUILD)"; exit 1; }
done

log "generating media"
MEDIA=$WORK/media.flv
timeout 120 ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 20 \
    -c:v libx264 -preset veryfast -b:v 450k -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 48k -f flv "$MEDIA"

# start_server NAME RTMP_PORT EXTRA_VHOST: starts rtmp-server; echoes its PID.
start_server() {
    local name=$1 port=$2 extra=$3
    cat >"$WORK/$name.conf" <<EOF
listen 127.0.0.1:$port;
max_connections 20000;
workers $WORKERS;
pid $WORK/$name.pid;
srs_log_tank console;
srs_log_level warn;
vhost __defaultVhost__ {
    $extra
}
EOF
    "$BIN/rtmp-server" -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
    local pid=$!
    STARTED_PIDS+=("$pid")
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$pid"
            return
        fi
        sleep 0.1
    done
    log "$name did not start; log:"
    cat "$WORK/$name.log" >&2
    exit 1
}

ORIGIN_PORT=$(free_port)
EDGE_PORT=$(free_port)
ORIGIN_PID=$(start_server origin "$ORIGIN_PORT" "")
EDGE_PID=$(start_server edge "$EDGE_PORT" \
    "cluster { mode remote; origin 127.0.0.1:$ORIGIN_PORT; idle_timeout 30; }")
ORIGIN_URL=rtmp://127.0.0.1:$ORIGIN_PORT/live/bench
EDGE_URL=rtmp://127.0.0.1:$EDGE_PORT/live/bench

ffmpeg -v error -re -stream_loop -1 -i "$MEDIA" -c copy -f flv "$ORIGIN_URL" \
    </dev/null >"$WORK/publisher.log" 2>&1 &
STARTED_PIDS+=("$!")
sleep 3

# players URL COUNT: N players for DURATION seconds; their summary line.
players() {
    timeout $((DURATION + 60)) "$BIN/rtmp-load" -q -n "$2" -r 1000 -d "$DURATION" "$1" \
        >"$WORK/load.out" 2>&1 || { log "rtmp-load failed:"; cat "$WORK/load.out" >&2; exit 1; }
}

rows=()
for n in $N; do
    log "$n players on the origin"
    o0=$(cpu_ms "$ORIGIN_PID")
    players "$ORIGIN_URL" "$n"
    o1=$(cpu_ms "$ORIGIN_PID")
    # The edge's pull is held over idle_timeout from the origin run on.
    log "$n players on the edge"
    e0=$(cpu_ms "$EDGE_PID"); p0=$(cpu_ms "$ORIGIN_PID")
    players "$EDGE_URL" "$n"
    e1=$(cpu_ms "$EDGE_PID"); p1=$(cpu_ms "$ORIGIN_PID")
    rows+=("$(python3 - "$n" "$DURATION" $((o1 - o0)) $((e1 - e0)) $((p1 - p0)) <<'PY'
import sys
n, d, origin, edge, upstream = (int(x) for x in sys.argv[1:])
per = lambda ms: ms / (n * d)
ratio = per(edge) / per(origin) if origin else float("nan")
print(f"| {n} | {origin} | {per(origin):.3f} | {edge} | {per(edge):.3f} | {ratio:.2f} | {upstream} |")
PY
)")
done

log "added delay of one edge hop (${DELAY_SECS} s)"
delay=$(timeout $((DELAY_SECS + 30)) "$BIN/edge-delay" --duration "$DELAY_SECS" "$ORIGIN_URL" "$EDGE_URL")

echo
echo "Edge vs origin, $PROFILE build, workers $WORKERS, ${DURATION} s per run, loopback:"
echo
echo "| players | origin CPU ms | ms per player-s | edge CPU ms | ms per player-s | edge/origin | origin CPU ms while the edge serves |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$delay"
