#!/usr/bin/env bash
# Memory and threads of one server under N publishers, over time (issue 22).
#
# Starts the server (our tokio or smol build, or nginx-rtmp) on loopback with
# HLS on (2 s fragments, 10 s window) or off, runs `rtmp-load -m publish -n N`
# of a ~500 kbit/s H.264 + AAC FLV for DURATION seconds, and samples the
# server's RSS, threads and CPU every second, through the load and for AFTER
# seconds after every publisher left at once. Prints one line per second and a
# summary line (peak threads after the publishers left, RSS at the end).
#
# Usage:
#   bench/publishers.sh tokio 200            # HLS on, 20 s, 60 s after
#   HLS=off DURATION=30 bench/publishers.sh smol 50
#   bench/publishers.sh nginx 200
#
# Environment: DURATION (20), AFTER (60), HLS (on|off), BIN (the release
# directory of our binaries, default ./target/release), CLIP (an FLV to
# publish; generated when unset), ENV_SERVER (extra VAR=VALUE words in our
# server's environment, e.g. MALLOC_ARENA_MAX=2), SERVER_CPUS / LOAD_CPUS
# (taskset CPU lists), KEEP=1 keeps the work directory.
# Bounded: every step has a timeout; only processes started here are stopped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${1:?server: tokio, smol or nginx}
N=${2:?publishers}
DURATION=${DURATION:-20}
AFTER=${AFTER:-60}
HLS=${HLS:-on}
BIN=${BIN:-$ROOT/target/release}
NGINX_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
WORK=$(mktemp -d /tmp/rtmp-publishers.XXXXXX)
SERVER_PIN=()
LOAD_PIN=()
if [[ -n ${SERVER_CPUS:-} ]]; then SERVER_PIN=(taskset -c "$SERVER_CPUS"); fi
if [[ -n ${LOAD_CPUS:-} ]]; then LOAD_PIN=(taskset -c "$LOAD_CPUS"); fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CLIP=${CLIP:-}
if [[ -z $CLIP ]]; then
    CLIP=$WORK/clip.flv
    timeout 120 ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
        -t 30 -c:v libx264 -preset veryfast -b:v 436k -maxrate 436k -bufsize 436k \
        -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
        -c:a aac -b:a 64k -ar 44100 -f flv "$CLIP"
fi

port=$((20000 + RANDOM % 10000))
mkdir -p "$WORK/hls" "$WORK/logs"
case $SERVER in
nginx)
    hls_block=""
    [[ $HLS == on ]] && hls_block="hls on; hls_path $WORK/hls; hls_fragment 2s; hls_playlist_length 10s;"
    cat >"$WORK/nginx.conf" <<EOF
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
error_log $WORK/logs/error.log warn;
pid $WORK/logs/nginx.pid;
events { worker_connections 65536; }
rtmp { server { listen 127.0.0.1:$port; application live { live on; record off; $hls_block } } }
EOF
    "${SERVER_PIN[@]}" nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/out.log" 2>&1 &
    ;;
tokio | smol)
    bin=$BIN/rtmp-server
    [[ $SERVER == smol ]] && bin=$BIN/rtmp-server-smol
    hls_block=""
    [[ $HLS == on ]] && hls_block="hls { enabled on; hls_path $WORK/hls; hls_fragment 2; hls_window 10; }"
    cat >"$WORK/server.conf" <<EOF
listen 127.0.0.1:$port;
max_connections 100000;
workers 1;
pid $WORK/server.pid;
daemon off;
srs_log_tank console;
srs_log_level warn;
vhost __defaultVhost__ { $hls_block }
EOF
    # shellcheck disable=SC2086
    env ${ENV_SERVER:-} "${SERVER_PIN[@]}" "$bin" -c "$WORK/server.conf" >"$WORK/out.log" 2>&1 &
    ;;
*) echo "unknown server $SERVER" >&2; exit 2 ;;
esac
spid=$!
PIDS+=("$spid")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
sample() { # second, phase
    local t c rss thr
    c=$(ticks "$spid"); rss=$(kb "$spid" VmRSS); thr=$(kb "$spid" Threads)
    echo "$1 $2 $((rss / 1024)) $thr $c"
}

idle_rss=$(kb "$spid" VmRSS)
c0=$(ticks "$spid")
"${LOAD_PIN[@]}" timeout $((DURATION + 30)) "$BIN/rtmp-load" -m publish -i "$CLIP" -n "$N" -r 0 -d "$DURATION" \
    --json -q "rtmp://127.0.0.1:$port/live/pub" >"$WORK/load.json" 2>"$WORK/load.err" &
lpid=$!
PIDS+=("$lpid")
echo "# second phase rss_MB threads cpu_ticks"
t=0
while kill -0 "$lpid" 2>/dev/null; do sample "$t" load; sleep 1; t=$((t + 1)); done
c1=$(ticks "$spid")
load_rss=$(kb "$spid" VmHWM)
peak_threads=0
for s in $(seq 1 "$AFTER"); do
    line=$(sample "$((t + s))" after)
    echo "$line"
    thr=$(awk '{ print $4 }' <<<"$line")
    ((thr > peak_threads)) && peak_threads=$thr
    sleep 1
done
end_rss=$(kb "$spid" VmRSS)
ok=$(jq -r '[.connections[] | select(.kbps > 0)] | length' "$WORK/load.json" 2>/dev/null || echo "?")
cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / d }')
echo "summary: server=$SERVER hls=$HLS publishers=$N publishing_ok=$ok cpu_pct_of_core=$cpu idle_rss_MB=$((idle_rss / 1024)) peak_rss_MB=$((load_rss / 1024)) peak_threads_after=$peak_threads end_rss_MB=$((end_rss / 1024)) (after ${AFTER}s)"
