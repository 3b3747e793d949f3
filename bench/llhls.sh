#!/usr/bin/env bash
# LL-HLS requests per second served from memory on one core, against plain
# HLS file serving (issue 21, Performance):
#
#   files        plain HLS (MPEG-TS): the newest complete .ts segment, read
#                from hls_path by the HTTP server's static file handler
#                (the baseline)
#   ll-part      LL-HLS (hls_ll on, 0.2 s parts, fMP4): a recent part of the
#                open segment (not INDEPENDENT, so a typical part rather than
#                one holding a key frame), answered from memory
#   ll-segment   LL-HLS: the newest complete .m4s segment. It is still
#                written to hls_path, but while its parts are kept (it is one
#                of the last 3 closed segments, for the whole run with the
#                fragment length below) the server answers it from memory,
#                its parts' buffers sent as they are; older segments would
#                come from the file handler as in `files`
#   ll-playlist  LL-HLS: the playlist itself, a plain GET (no _HLS_msn, so
#                it never blocks), answered from memory
#
# Each scenario runs a fresh server (release build, tokio, `workers 1`)
# pinned to core 0 with taskset, one publisher (ffmpeg -re -stream_loop -1
# of a generated 20 s clip with a 1 s GOP, -c copy) and, once the playlist
# lists what is fetched, `rtmp-load -m get -n N` on the URL for DURATION
# seconds, both pinned to core 1. Each of the N keep-alive connections
# fetches the URL as fast as the server answers. The server's CPU is read
# from /proc/PID/stat (clock ticks) around the load; it includes the
# publisher's ingest and the HLS muxing (about 1 % of a core here), the same
# in every scenario (LL-HLS's parts included). Rounds interleave the four
# scenarios; ratios are against `files` in the same round, and the medians
# are over rounds. Answers other than 200 (404: the URL left the server's
# window) are counted in the non-200 column; the fragment length is chosen
# so that does not happen: a part is kept while its segment is one of the
# last 3 closed ones or the open one (at least 3 x FRAGMENT s after it is
# picked), and so is a complete segment in memory; its file stays for
# hls_window = DURATION + 60 s. If the `load cpu`
# column nears 100 %, the client, not the server, was the limit: lower N or
# give the load tool more cores (LOAD_CPUS=1-3) on a bigger machine.
# Results go in BENCHMARKS.md.
#
#   bench/llhls.sh                          # N=32, DURATION=10, REPEATS=3
#   DURATION=3 REPEATS=1 bench/llhls.sh     # smoke run
#   N=64 REPEATS=5 bench/llhls.sh
#
# Environment: N (32), DURATION (10), REPEATS (3), FRAGMENT (hls_fragment in
# s; default: the smallest whole number with 3 x FRAGMENT > DURATION + 2),
# SERVER_CPUS (0), LOAD_CPUS (1), SKIP_BUILD=1, KEEP=1 keeps the work
# directory. Only processes started here are stopped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-32}
DURATION=${DURATION:-10}
REPEATS=${REPEATS:-3}
FRAGMENT=${FRAGMENT:-$(((DURATION + 2) / 3 + 1))}
WINDOW=$((DURATION + 60))
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
WORK=$(mktemp -d /tmp/rtmp-llhls.XXXXXX)
HZ=$(getconf CLK_TCK)
SCENARIOS=(files ll-part ll-segment ll-playlist)
PIDS=()
log() { echo "llhls: $*" >&2; }
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for tool in ffmpeg jq python3 taskset; do
    command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
done
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p bench -p server-tokio >&2)
fi

log "generating the clip (640x360 25 fps, 1 s GOP, ~1 Mbit/s H.264 + AAC)"
timeout 120 ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 20 \
    -c:v libx264 -preset veryfast -b:v 1000k -maxrate 1000k -bufsize 1000k \
    -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p \
    -c:a aac -b:a 64k -f flv "$WORK/clip.flv"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# utime + stime of a process, in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name).
ticks() { local s; s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo $((${12} + ${13})); }
now() { date +%s.%N; }

# pick KIND PLAYLIST_URL: the URL a scenario fetches, or nothing while the
# playlist does not list it yet. segment: the newest complete segment, once
# two are listed (the first may be short). part: the newest part of the
# open segment that is not INDEPENDENT (the preload hint is never taken: it
# would block until the part exists). playlist: the playlist, once it lists
# a segment.
pick() {
    python3 - "$1" "$2" <<'EOF'
import sys, urllib.parse, urllib.request
kind, url = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=2) as r:
        text = r.read(1 << 20).decode()
except Exception:
    sys.exit(0)
segments, open_parts = [], []
for line in text.splitlines():
    if line.startswith("#EXT-X-PART:"):
        attrs = line[len("#EXT-X-PART:"):]
        if 'URI="' in attrs:
            uri = attrs.split('URI="', 1)[1].split('"', 1)[0]
            open_parts.append((uri, "INDEPENDENT=YES" in attrs))
    elif line and not line.startswith("#"):
        segments.append(line)
        open_parts = []
if kind == "segment" and len(segments) >= 2:
    print(urllib.parse.urljoin(url, segments[-1]))
elif kind == "part":
    typical = [u for u, independent in open_parts if not independent]
    if typical:
        print(urllib.parse.urljoin(url, typical[-1]))
elif kind == "playlist" and segments:
    print(url)
EOF
}

# One scenario on a fresh server. Prints: requests non_200 errors bytes
# window_s server_ticks wall_s load_cpu_percent.
measure() { # scenario
    local scenario=$1 ll="" kind
    case $scenario in
    files) kind=segment ;;
    ll-part) kind=part ll="hls_ll on; hls_part_duration 0.2; hls_use_fmp4 on;" ;;
    ll-segment) kind=segment ll="hls_ll on; hls_part_duration 0.2; hls_use_fmp4 on;" ;;
    ll-playlist) kind=playlist ll="hls_ll on; hls_part_duration 0.2; hls_use_fmp4 on;" ;;
    esac
    local dir rtmp http
    dir=$(mktemp -d "$WORK/$scenario.XXXX")
    rtmp=$(port)
    http=$(port)
    mkdir -p "$dir/hls" "$dir/html"
    cat >"$dir/server.conf" <<EOF
listen 127.0.0.1:$rtmp;
max_connections $((N + 100));
workers 1;
pid $dir/server.pid;
daemon off;
srs_log_tank file;
srs_log_file $dir/server.log;
srs_log_level warn;
http_api { enabled off; }
http_server { enabled on; listen 127.0.0.1:$http; dir $dir/html; }
vhost __defaultVhost__ {
    hls { enabled on; hls_path $dir/hls; hls_fragment $FRAGMENT; hls_window $WINDOW; $ll }
}
EOF
    taskset -c "$SERVER_CPUS" "$BIN/rtmp-server" -c "$dir/server.conf" >"$dir/out.log" 2>&1 &
    local spid=$!
    PIDS+=("$spid")
    local up=0
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null; then up=1; break; fi
        sleep 0.1
    done
    if [[ $up != 1 ]]; then log "$scenario: the server did not start"; cat "$dir/out.log" >&2; return 1; fi
    taskset -c "$LOAD_CPUS" ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i "$WORK/clip.flv" \
        -c copy -f flv "rtmp://127.0.0.1:$rtmp/live/s" >"$dir/ffmpeg.log" 2>&1 &
    local fpid=$!
    PIDS+=("$fpid")
    local url="" playlist="http://127.0.0.1:$http/live/s.m3u8"
    for _ in $(seq $((FRAGMENT * 30 + 100))); do
        url=$(pick "$kind" "$playlist")
        [[ -n $url ]] && break
        sleep 0.1
    done
    if [[ -z $url ]]; then log "$scenario: nothing to fetch in $playlist"; cat "$dir/ffmpeg.log" >&2; return 1; fi
    log "$scenario: $url"
    local t0 t1 w0 w1
    w0=$(now)
    t0=$(ticks "$spid")
    # Exits non-zero when not one 200 came: the table shows that.
    taskset -c "$LOAD_CPUS" "$BIN/rtmp-load" -m get -n "$N" -r 0 -d "$DURATION" --json -q "$url" \
        >"$dir/load.json" 2>"$dir/load.err" || true
    t1=$(ticks "$spid")
    w1=$(now)
    kill -TERM "$fpid" 2>/dev/null || true
    wait "$fpid" 2>/dev/null || true
    kill -TERM "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    if ! jq -e . "$dir/load.json" >/dev/null 2>&1; then
        log "$scenario: rtmp-load gave no report"; cat "$dir/load.err" >&2; return 1
    fi
    local j
    j=$(jq -r '[.totals.requests, .totals.non_200, .totals.errors, .totals.bytes, .window_s, .cpu.percent_of_core] | @tsv' "$dir/load.json")
    read -r req non200 errors bytes window lcpu <<<"$j"
    local message
    message=$(jq -r '.errors[0].message // empty' "$dir/load.json")
    [[ -n $message ]] && log "$scenario: $message"
    echo "$req $non200 $errors $bytes $window $((t1 - t0)) $(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", b - a }') $lcpu"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "-" }'; }

echo "LL-HLS vs plain HLS file serving: $N keep-alive connections, ${DURATION}s a scenario, hls_fragment ${FRAGMENT}s, hls_window ${WINDOW}s, server on CPU $SERVER_CPUS (workers 1), load on CPU $LOAD_CPUS"
echo
echo "| round | scenario | KB/req | req/s | MB/s | non-200 | errors | server CPU % | req per CPU-s | req/s vs files | req/CPU-s vs files | load CPU % |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
declare -A RPS MBS CPU RPC RATIO_RPS RATIO_RPC
for round in $(seq 1 "$REPEATS"); do
    base_rps="" base_rpc=""
    for scenario in "${SCENARIOS[@]}"; do
        # A scenario that fails ends the run (set -e), with its logs on stderr.
        result=$(measure "$scenario")
        read -r req non200 errors bytes window ticks_used wall lcpu <<<"$result"
        rps=$(div "$req" "$window" %.1f)
        mbs=$(div "$bytes" "$(awk -v w="$window" 'BEGIN { print w * 1e6 }')" %.2f)
        kb=$(div "$bytes" "$(awk -v r="$req" 'BEGIN { print r * 1e3 }')" %.1f)
        cpu=$(awk -v t="$ticks_used" -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.1f", 100 * t / hz / w }')
        rpc=$(div "$req" "$(awk -v t="$ticks_used" -v hz="$HZ" 'BEGIN { print t / hz }')" %.0f)
        if [[ $scenario == files ]]; then base_rps=$rps base_rpc=$rpc; fi
        r_rps=$(div "$rps" "$base_rps")
        r_rpc=$(div "$rpc" "$base_rpc")
        RPS[$scenario]+="$rps "
        MBS[$scenario]+="$mbs "
        CPU[$scenario]+="$cpu "
        RPC[$scenario]+="$rpc "
        RATIO_RPS[$scenario]+="$r_rps "
        RATIO_RPC[$scenario]+="$r_rpc "
        echo "| $round | $scenario | $kb | $rps | $mbs | $non200 | $errors | $cpu | $rpc | $r_rps | $r_rpc | $lcpu |"
    done
done
echo
echo "Medians over $REPEATS rounds:"
echo
echo "| scenario | req/s | MB/s | server CPU % | req per CPU-s | req/s vs files | req/CPU-s vs files |"
echo "|---|---|---|---|---|---|---|"
for scenario in "${SCENARIOS[@]}"; do
    # shellcheck disable=SC2086 # the lists are space-separated on purpose
    echo "| $scenario | $(median ${RPS[$scenario]}) | $(median ${MBS[$scenario]}) | $(median ${CPU[$scenario]}) | $(median ${RPC[$scenario]}) | $(median ${RATIO_RPS[$scenario]}) | $(median ${RATIO_RPC[$scenario]}) |"
done
