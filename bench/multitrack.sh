#!/usr/bin/env bash
# Cost per player of an Enhanced RTMP v2 multitrack stream against a
# single-track one of the same total bitrate, in the same run (issue 21):
#
#   single    one H.264 rendition (900 kbit/s) + AAC 64 kbit/s; legacy players
#   multi     two renditions (600 + 300 kbit/s) + two AAC tracks (32 kbit/s
#             each); legacy players, who get the default track rebuilt in
#             legacy form (one rebuild per message, shared)
#   multi-e   the multitrack stream to players announcing E-RTMP (every track,
#             as published)
#
# Each round runs the three scenarios one after another on a fresh server
# (release build, tokio), N players for DURATION seconds, and reads the
# server's CPU (clock ticks) over the last DURATION - WARMUP seconds. Ratios
# are against `single` in the same round; the table gives each round and the
# medians. Figures go in BENCHMARKS.md.
#
#   bench/multitrack.sh                 # N=500, DURATION=20, REPEATS=3
#   N=1000 REPEATS=5 bench/multitrack.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-500}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
REPEATS=${REPEATS:-3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
WORK=$(mktemp -d /tmp/rtmp-multitrack.XXXXXX)
PIDS=()
log() { echo "multitrack: $*" >&2; }
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

FFMPEG=$(python3 -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())' 2>/dev/null) || {
    log "needs the modern ffmpeg: python3 -m pip install imageio-ffmpeg"
    exit 1
}
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p bench -p server-tokio >&2)
fi

log "generating the clips"
common=(-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25
    -f lavfi -i sine=frequency=440:sample_rate=44100 -f lavfi -i sine=frequency=660:sample_rate=44100 -t 20)
x264=(-preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p)
"$FFMPEG" "${common[@]}" -map 0:v -map 1:a -c:v libx264 "${x264[@]}" -b:v 900k -maxrate 900k -bufsize 900k \
    -c:a aac -b:a 64k -f flv "$WORK/single.flv"
"$FFMPEG" "${common[@]}" -filter_complex "[0:v]split=2[a][b];[b]scale=320:180[c]" \
    -map "[a]" -map "[c]" -map 1:a -map 2:a -c:v libx264 "${x264[@]}" \
    -b:v:0 600k -maxrate:v:0 600k -bufsize:v:0 600k -b:v:1 300k -maxrate:v:1 300k -bufsize:v:1 300k \
    -c:a aac -b:a 32k -f flv "$WORK/multi.flv"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo $(( ${12} + ${13} )); }

# One scenario: prints the server's clock ticks over the measured window.
measure() { # clip player-options...
    local clip=$1; shift
    local rtmp; rtmp=$(port)
    cat >"$WORK/s.conf" <<EOF
listen 127.0.0.1:$rtmp;
max_connections $((N + 100));
srs_log_tank file;
srs_log_file $WORK/server.log;
vhost __defaultVhost__ { }
EOF
    "$BIN/rtmp-server" -c "$WORK/s.conf" >/dev/null 2>&1 &
    local spid=$!
    PIDS+=("$spid")
    sleep 0.5
    "$BIN/rtmp-load" -q -m publish -i "$clip" -d $((DURATION + 3)) "rtmp://127.0.0.1:$rtmp/live/s" \
        >"$WORK/publisher.txt" &
    local ppid=$!
    sleep 2
    "$BIN/rtmp-load" -q -n "$N" -r 1000 -d "$DURATION" "$@" "rtmp://127.0.0.1:$rtmp/live/s" >"$WORK/players.txt" &
    local lpid=$!
    sleep "$WARMUP"
    local t0; t0=$(ticks "$spid")
    sleep $((DURATION - WARMUP - 1))
    local t1; t1=$(ticks "$spid")
    wait "$lpid" || true
    wait "$ppid" || true
    kill -TERM "$spid"; wait "$spid" 2>/dev/null || true
    # What the players got, so a run whose players failed shows it.
    log "$(basename "$clip") $*: $(grep -h '^totals:' "$WORK/players.txt" || echo 'players: no report')"
    echo $((t1 - t0))
}

echo "| round | single (ticks) | multi, legacy players | multi, E-RTMP players | ratio legacy | ratio E-RTMP |"
echo "|---|---|---|---|---|---|"
ratios_l=(); ratios_e=()
for round in $(seq 1 "$REPEATS"); do
    s=$(measure "$WORK/single.flv")
    m=$(measure "$WORK/multi.flv")
    e=$(measure "$WORK/multi.flv" --enhanced)
    rl=$(awk -v a="$m" -v b="$s" 'BEGIN { printf "%.2f", a / b }')
    re=$(awk -v a="$e" -v b="$s" 'BEGIN { printf "%.2f", a / b }')
    ratios_l+=("$rl"); ratios_e+=("$re")
    echo "| $round | $s | $m | $e | $rl | $re |"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "Medians over $REPEATS rounds, $N players, ${DURATION}s: multitrack to legacy players $(median "${ratios_l[@]}")x, to E-RTMP players $(median "${ratios_e[@]}")x the single-track stream's CPU."
