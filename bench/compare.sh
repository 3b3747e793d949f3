#!/usr/bin/env bash
# Side-by-side benchmark: nginx-rtmp vs rtmp-server (tokio and smol builds),
# same scenario, same run, everything on 127.0.0.1.
#
# For each server and each player count N, on a freshly started server:
#   1. one publisher: ffmpeg -re -stream_loop -1 -c copy of a generated
#      H.264 + AAC file of about 500 kbit/s (2 s GOP);
#   2. N RTMP players from rtmp-load for DURATION seconds;
#   3. the server's CPU time (utime + stime from /proc/PID/stat) over the
#      player run and its peak RSS (VmHWM), against its RSS before players;
# then one Markdown table with ratios against nginx-rtmp at the same N.
#
# With MODE=publish (issue 22) the load is N publishers instead: rtmp-load
# -m publish of the same file, each to its own stream (no ffmpeg publisher),
# with HLS on or off (HLS=on: 2 s fragments, 10 s window, on every server),
# and the columns count publishers; KB/publisher is (peak RSS - RSS before
# publishers) / N.
#
# With MODE=cdn (issue 22: the shape of a small CDN origin) the load is
# STREAMS streams with PER_STREAM players each: rtmp-load -m publish -n
# STREAMS of the same file for the whole run (HLS on or off as in publish
# mode), then after WARMUP seconds one rtmp-load with STREAMS x PER_STREAM
# RTMP players and --streams STREAMS (player i plays publisher i mod
# STREAMS's stream). CPU is the server's over the player run; the columns
# count streams, CPU eff. is player-seconds per server CPU-second,
# KB/stream is (peak RSS - RSS before the publishers) / STREAMS, and
# errors + drops adds the publishers' to the players'.
#
# Every mode also reports the server's peak thread count during the run
# (publish mode: and in the 3 s after the clients left at once).
#
# Usage (from anywhere):
#   bench/compare.sh
#   N="100 500" DURATION=15 bench/compare.sh
#   SERVERS="nginx tokio tokio-mw0" bench/compare.sh
#   MODE=publish HLS=on bench/compare.sh     # 100, 200, 500 publishers
#   MODE=cdn bench/compare.sh                # 100 streams x 10 players
#
# Environment:
#   MODE       play (default), publish or cdn
#   N          player counts (default "500 1000 2000 4000"), or publisher
#              counts with MODE=publish (default "100 200 500")
#   STREAMS    MODE=cdn: stream (= publisher) counts (default 100)
#   PER_STREAM MODE=cdn: players per stream (default 10)
#   HLS        on or off (default off): HLS output on every server
#   DURATION   seconds of each player run (default 30)
#   SERVERS    any of: nginx tokio smol, and our servers with suffixes:
#              -mw0 (mw_latency 0), -mr (publish { mr on; }), -nogop
#              (gop_cache off: memory a stream without the GOP cache, which
#              nginx-rtmp does not keep), e.g. tokio-mr, tokio-nogop
#              (default "nginx tokio smol"); `base` is the tokio binary in
#              $BASE_BIN (an A/B against an older build: check out the old
#              commit in a git worktree, build it with its own
#              CARGO_TARGET_DIR, then SERVERS="base tokio"
#              BASE_BIN=/that/target/release).
#              The first server is the reference of the ratio columns
#              (nginx in the default list).
#   REPEATS    rounds of the whole matrix (default 1); with more, the rounds
#              interleave (every server at every N, then again), each row's
#              ratio is against nginx in its own round, and a last table gives
#              medians per server and N
#   RAMP       player connections opened per second (default 1000)
#   WARMUP     seconds between the publisher start and the players (default 3)
#   WORKERS    our servers' `workers` setting (default 1, the same single
#              worker nginx runs with here; "auto" for one per core)
#   LOAD_THREADS  rtmp-load runtime threads (default 1)
#   READ_INTERVAL rtmp-load --read-interval in ms (default 0: players read as
#              soon as data arrives, like real players and SRS's st-load). A
#              value like 100 makes the load tool several times cheaper when it
#              shares a small machine with the server, but it also changes the
#              server's work (fewer ACK-driven wakeups): compare servers only
#              at the same value
#   SERVER_CPUS, LOAD_CPUS  CPU lists for taskset(1) (e.g. 0 and 1): the
#              server under test on its own CPU, the publisher and rtmp-load
#              on another, so the load tool never preempts the server it
#              measures (default: unpinned, everything shares every CPU)
#   SKIP_BUILD=1  use the binaries already in the target dir
#   KEEP=1     keep the work directory (configs, logs, raw JSON)
#   CARGO_TARGET_DIR  where the release binaries are (default ./target)
#
# Bounded: every step has a timeout; only processes this script started are
# stopped, by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${MODE:-play}
HLS=${HLS:-off}
DURATION=${DURATION:-30}
SERVERS=${SERVERS:-"nginx tokio smol"}
RAMP=${RAMP:-1000}
REPEATS=${REPEATS:-1}
WARMUP=${WARMUP:-3}
PER_STREAM=${PER_STREAM:-10}
# MODE=cdn: how long the publishers outlive the players.
PUBLISH_MARGIN=5
PER_UNIT_TEXT=""
ERRORS_TEXT=""
# UNIT is what a row counts (the N column, KB/unit); CLIENT is what the
# kbit/s, first-frame and < 95 % columns measure; PER_UNIT clients a unit.
case $MODE in
publish)
    N=${N:-"100 200 500"}; UNIT=publishers; CLIENT=publisher; PER_UNIT=1; AFTER_S=3
    AFTER_TEXT=" and the $AFTER_S s after they left (CPU too)"; READ_TEXT=""
    LOAD_TEXT="publishers ramped at ${RAMP}/s"; BEFORE_TEXT=publishers ;;
play)
    N=${N:-"500 1000 2000 4000"}; UNIT=players; CLIENT=player; PER_UNIT=1; AFTER_S=0
    AFTER_TEXT=""; READ_TEXT=" reading every ${READ_INTERVAL:-0} ms"
    LOAD_TEXT="players ramped at ${RAMP}/s"; BEFORE_TEXT=players ;;
cdn)
    N=${STREAMS:-100}; UNIT=streams; CLIENT=player; PER_UNIT=$PER_STREAM; AFTER_S=0
    AFTER_TEXT=""; READ_TEXT=" reading every ${READ_INTERVAL:-0} ms"
    LOAD_TEXT="one rtmp-load publisher a stream, after ${WARMUP} s ${PER_STREAM} players a stream, all ramped at ${RAMP}/s"
    BEFORE_TEXT=publishers; PER_UNIT_TEXT=" × $PER_STREAM players"
    ERRORS_TEXT="; errors + drops = players' and publishers'" ;;
*)
    echo "compare: MODE must be play, publish or cdn" >&2
    exit 2 ;;
esac
LOAD_THREADS=${LOAD_THREADS:-1}
WORKERS=${WORKERS:-1}
READ_INTERVAL=${READ_INTERVAL:-0}
SERVER_PIN=()
LOAD_PIN=()
if [[ -n ${SERVER_CPUS:-} ]]; then SERVER_PIN=(taskset -c "$SERVER_CPUS"); fi
if [[ -n ${LOAD_CPUS:-} ]]; then LOAD_PIN=(taskset -c "$LOAD_CPUS"); fi
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
WORK=$(mktemp -d /tmp/rtmp-compare.XXXXXX)
STARTED_PIDS=()

log() { echo "compare: $*" >&2; }

stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
    if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

# --- prerequisites ---------------------------------------------------------
NGINX_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
if [[ " $SERVERS " == *" nginx "* ]] && { ! command -v nginx >/dev/null || [[ ! -f $NGINX_MODULE ]]; }; then
    log "installing nginx and libnginx-mod-rtmp"
    as_root apt-get install -y nginx libnginx-mod-rtmp >&2
fi
if ! command -v ffmpeg >/dev/null; then
    log "installing ffmpeg"
    as_root apt-get install -y ffmpeg >&2
fi
# Every player is a socket on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building release binaries in $TARGET_DIR"
    if ! (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p bench -p server-tokio -p server-smol >&2); then
        log "rtmp-server does not build: measuring nginx only"
        (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p bench >&2)
        SERVERS=nginx
    fi
fi
LOAD=$BIN/rtmp-load
[[ -x $LOAD ]] || { log "no $LOAD"; exit 1; }

# --- helpers ---------------------------------------------------------------
# A loopback port nobody listens on (connection refused), below the
# ephemeral range: thousands of player connections leave TIME_WAIT sockets on
# ephemeral ports, which a server could not bind.
EPHEMERAL_LOW=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
    local p span=$((EPHEMERAL_LOW - 10000))
    for _ in $(seq 1 200); do
        p=$((10000 + RANDOM % span))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

wait_port() {
    local port=$1 pid=$2
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# utime and stime of PID in clock ticks (proc(5) fields 14 and 15, counted
# after the command name, which may contain spaces).
cpu_ticks() {
    local stat rest
    stat=$(cat "/proc/$1/stat") || return 1
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "${12} ${13}"
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# Runs "$@" in the background and prints the most threads PID $1 had while
# it ran and for AFTER_S seconds after (clients leaving at once).
# Usage: peak_threads SPID OUT ERR command... (its stdout and stderr to the
# files OUT and ERR).
peak_threads() {
    local spid=$1 out=$2 err=$3 most=0 t job
    shift 3
    "$@" >"$out" 2>"$err" &
    job=$!
    while kill -0 "$job" 2>/dev/null; do
        t=$(status_kb "$spid" Threads || echo 0)
        ((t > most)) && most=$t
        sleep 0.2
    done
    wait "$job" || true
    for _ in $(seq 1 $((AFTER_S * 5))); do
        t=$(status_kb "$spid" Threads || echo 0)
        ((t > most)) && most=$t
        sleep 0.2
    done
    echo "$most"
}

# Waits up to $2 seconds for PID $1 to end by itself, then stops it.
await_pid() {
    local pid=$1
    for _ in $(seq 1 $(($2 * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    stop_pid "$pid"
}

HZ=$(getconf CLK_TCK)

# --- the test stream ---------------------------------------------------------
CLIP=$WORK/clip.flv
log "generating the test stream (H.264 436 kbit/s + AAC 64 kbit/s, 2 s GOP)"
timeout 120 ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 30 -c:v libx264 -preset veryfast -b:v 436k -maxrate 436k -bufsize 436k \
    -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
    -c:a aac -b:a 64k -ar 44100 -f flv "$CLIP"
# The media bitrate: FLV tag bodies (= RTMP message payloads, what rtmp-load
# reports as a player's kbit/s) per second: the file minus its 13-byte
# header and 15 bytes per tag (11 header + 4 PreviousTagSize); tags are the
# packets plus onMetaData and two sequence headers.
CLIP_SIZE=$(stat -c %s "$CLIP")
CLIP_SECONDS=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$CLIP")
CLIP_PACKETS=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$CLIP" | awk '{ n += $1 } END { print n }')
STREAM_KBPS=$(awk -v s="$CLIP_SIZE" -v d="$CLIP_SECONDS" -v p="$CLIP_PACKETS" 'BEGIN { printf "%.0f", (s - 13 - 15 * (p + 3)) * 8 / d / 1000 }')
log "stream bitrate ${STREAM_KBPS} kbit/s (FLV tag bodies)"

# --- servers -----------------------------------------------------------------
# Starts server $1 on port $2 in $3; sets SPID to its PID.
start_server() {
    local name=$1 port=$2 dir=$3
    mkdir -p "$dir"
    case $name in
    nginx)
        mkdir -p "$dir/logs" "$dir/tmp" "$dir/hls"
        local NGINX_HLS=""
        [[ $HLS == on ]] && NGINX_HLS="hls on; hls_path $dir/hls; hls_fragment 2s; hls_playlist_length 10s;"
        cat >"$dir/nginx.conf" <<EOF
load_module $NGINX_MODULE;
daemon off;
master_process off;
worker_processes 1;
error_log $dir/logs/error.log warn;
pid $dir/logs/nginx.pid;
events { worker_connections 65536; }
rtmp {
    server {
        listen 127.0.0.1:$port;
        application live {
            live on;
            record off;
            $NGINX_HLS
        }
    }
}
EOF
        "${SERVER_PIN[@]}" nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
        ;;
    tokio | smol | tokio-* | smol-* | base)
        local bin=$BIN/rtmp-server mw=350 mr=off gop=on
        [[ $name == smol* ]] && bin=$BIN/rtmp-server-smol
        [[ $name == base ]] && bin=${BASE_BIN:?BASE_BIN must name the release directory of the baseline build}/rtmp-server
        [[ $name == *-mw0* ]] && mw=0
        [[ $name == *-mr* ]] && mr=on
        [[ $name == *-nogop* ]] && gop=off
        local hls="hls { enabled off; }"
        [[ $HLS == on ]] && hls="hls { enabled on; hls_path $dir/hls; hls_fragment 2; hls_window 10; }"
        cat >"$dir/server.conf" <<EOF
listen              127.0.0.1:$port;
max_connections     100000;
workers             $WORKERS;
pid                 $dir/server.pid;
daemon              off;
srs_log_tank        console;
srs_log_level       warn;
vhost __defaultVhost__ {
    play {
        gop_cache       $gop;
        mw_latency      $mw;
    }
    publish {
        mr              $mr;
    }
    $hls
}
EOF
        "${SERVER_PIN[@]}" "$bin" -c "$dir/server.conf" >"$dir/stdout.log" 2>&1 &
        ;;
    *)
        log "unknown server $name"
        return 1
        ;;
    esac
    SPID=$!
}

ratio() { awk -v a="$1" -v b="${2:-}" 'BEGIN { if (b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# --- runs --------------------------------------------------------------------
# The ratio columns are against the first server (nginx by default).
REF=${SERVERS%% *}
declare -A NGINX_EFF NGINX_KBPP CPU_RUNS EFF_RUNS RATIO_RUNS
ROWS=()
for round in $(seq 1 "$REPEATS"); do
for server in $SERVERS; do
    for n in $N; do
        dir=$WORK/$server-$n-r$round
        label=$server
        [[ $REPEATS -gt 1 ]] && label="$server (round $round)"
        port=$(free_port)
        start_server "$server" "$port" "$dir"
        spid=$SPID
        STARTED_PIDS+=("$spid")
        if ! wait_port "$port" "$spid"; then
            log "$server did not start; see $dir/stdout.log"
            tail -5 "$dir/stdout.log" >&2 || true
            stop_pid "$spid"
            continue
        fi
        url=rtmp://127.0.0.1:$port/live/bench
        clients=$((n * PER_UNIT))
        # Memory is counted from the idle server, except in play mode, from
        # after its one publisher.
        base_rss=$(status_kb "$spid" VmRSS)
        ppid=""
        case $MODE in
        play)
            "${LOAD_PIN[@]}" timeout $((DURATION + WARMUP + 60)) ffmpeg -hide_banner -loglevel error -re -stream_loop -1 \
                -i "$CLIP" -c copy -f flv "$url" >"$dir/ffmpeg.log" 2>&1 &
            ppid=$! ;;
        cdn)
            # Outlives the players by PUBLISH_MARGIN s, then ends by itself
            # and writes its report.
            "${LOAD_PIN[@]}" timeout $((DURATION + WARMUP + 60)) "$LOAD" -m publish -i "$CLIP" -n "$n" -r "$RAMP" \
                -d $((WARMUP + DURATION + PUBLISH_MARGIN)) --threads "$LOAD_THREADS" --json -q "$url" \
                >"$dir/publish.json" 2>"$dir/publish.err" &
            ppid=$! ;;
        esac
        if [[ -n $ppid ]]; then
            STARTED_PIDS+=("$ppid")
            sleep "$WARMUP"
        fi
        if [[ $MODE == play ]]; then base_rss=$(status_kb "$spid" VmRSS); fi
        load_args=(-n "$clients" --read-interval "$READ_INTERVAL")
        case $MODE in
        publish) load_args=(-m publish -i "$CLIP" -n "$n") ;;
        cdn) load_args+=(--streams "$n") ;;
        esac
        read -r u0 s0 < <(cpu_ticks "$spid")
        log "$label: $n $UNIT${PER_UNIT_TEXT} for ${DURATION}s (HLS $HLS)"
        threads=$(peak_threads "$spid" "$dir/load.json" "$dir/load.err" \
            "${LOAD_PIN[@]}" timeout $((DURATION + 30)) "$LOAD" "${load_args[@]}" -r "$RAMP" -d "$DURATION" \
            --threads "$LOAD_THREADS" --json -q "$url")
        # CPU over the load run (the publish mode's also covers the 3 s
        # after, when every stream ends at once and HLS closes its files).
        read -r u1 s1 < <(cpu_ticks "$spid") || { u1=$u0; s1=$s0; }
        hwm=$(status_kb "$spid" VmHWM || echo 0)
        publisher_bad=0
        if [[ $MODE == cdn ]]; then
            await_pid "$ppid" $((PUBLISH_MARGIN + 10))
            publisher_bad=$(jq -e '.totals.errors + .totals.disconnects + .totals.no_media' "$dir/publish.json" 2>/dev/null) || {
                log "$server/$n: the publishers gave no report; see $dir/publish.err"
                publisher_bad="?"
            }
        elif [[ -n $ppid ]]; then
            stop_pid "$ppid"
        fi
        stop_pid "$spid"
        if ! jq -e .totals "$dir/load.json" >/dev/null 2>&1; then
            log "$server/$n: rtmp-load gave no report; see $dir/load.err"
            continue
        fi
        # Everything derived in one awk call: CPU seconds, efficiency
        # (client-seconds served per server CPU-second), RSS per unit.
        read -r cpu_s pct sys_pct eff kbpp < <(awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$HZ" \
            -v d="$DURATION" -v n="$n" -v c="$clients" -v hwm="$hwm" -v base="$base_rss" 'BEGIN {
                cpu = (u + s) / hz
                sys = 0; if (u + s > 0) sys = s * 100 / (u + s)
                eff = 0; if (cpu > 0) eff = c * d / cpu
                printf "%.2f %.1f %.0f %.0f %.1f\n", cpu, cpu * 100 / d, sys, eff, (hwm - base) / n }')
        read -r kmin kmed below stalls ffp50 ffp95 bad loadcpu < <(jq -r --argjson rate "$STREAM_KBPS" '
            [ (.kbps.min // 0 | floor), (.kbps.median // 0 | floor),
              ([.connections[] | select(.kbps < 0.95 * $rate)] | length),
              .totals.stalls,
              (.first_frame_ms.median // "-"), (.first_frame_ms.p95 // "-"),
              (.totals.errors + .totals.disconnects + .totals.no_media),
              (.cpu.percent_of_core | floor) ] | @tsv' "$dir/load.json")
        if [[ $publisher_bad == "?" ]]; then bad="$bad + ?"; else bad=$((bad + publisher_bad)); fi
        if [[ $server == "$REF" ]]; then
            NGINX_EFF[$n]=$eff
            NGINX_KBPP[$n]=$kbpp
        fi
        eff_x=$(ratio "$eff" "${NGINX_EFF[$n]:-}")
        kbpp_x=$(ratio "$kbpp" "${NGINX_KBPP[$n]:-}")
        CPU_RUNS[$server/$n]+="$pct "
        EFF_RUNS[$server/$n]+="$eff "
        RATIO_RUNS[$server/$n]+="$eff_x "
        ROWS+=("| $label | $n | $cpu_s | $pct % | $sys_pct % | $eff | $eff_x | $((hwm / 1024)) | $kbpp | $kbpp_x | $kmin / $kmed | $below | $stalls | $ffp50 / $ffp95 | $bad | $loadcpu % | $threads |")
    done
done
done

echo
echo "Stream: ${STREAM_KBPS} kbit/s (H.264 + AAC, 2 s GOP), ${DURATION} s per run, ${LOAD_TEXT}${READ_TEXT}, HLS $HLS, loopback, $(nproc) CPUs${SERVER_CPUS:+ (server on CPU $SERVER_CPUS, publisher and players on CPU ${LOAD_CPUS:-any})}; nginx worker_processes 1, our servers workers ${WORKERS}."
echo "CPU eff. = ${CLIENT}-seconds served per server CPU-second (higher is better); × $REF = ratio to $REF at the same N (the ratio columns are headed × nginx)."
echo "KB/${UNIT%s} = (peak RSS - RSS before ${BEFORE_TEXT}) / N (lower is better); threads = the server's most threads during the run${AFTER_TEXT}${ERRORS_TEXT}."

echo
echo "| server | $UNIT${PER_UNIT_TEXT} | server CPU s | % of a core | kernel share | CPU eff. | × nginx | peak RSS MB | KB/${UNIT%s} | × nginx | ${CLIENT} kbit/s min / median | ${CLIENT}s < 95 % | stalls | first frame ms p50 / p95 | errors + drops | rtmp-load CPU | threads |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do echo "$row"; done

list() { local a=$1; a=${a% }; echo "${a// /, }"; }
median() { tr ' ' '\n' | grep -v '^$' | grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [[ $REPEATS -gt 1 ]]; then
    echo
    echo "Medians over $REPEATS rounds (× nginx: each round's ratio to nginx in that round, and the ratio of the median efficiencies):"
    echo
    echo "| server | $UNIT | % of a core, by round | median % of a core | × nginx, by round | median of the ratios | ratio of the medians |"
    echo "|---|---:|---|---:|---|---:|---:|"
    for server in $SERVERS; do
        for n in $N; do
            key=$server/$n
            [[ -n ${CPU_RUNS[$key]:-} ]] || continue
            eff_med=$(median <<<"${EFF_RUNS[$key]}")
            nginx_med=$(median <<<"${EFF_RUNS[$REF/$n]:-}")
            echo "| $server | $n | $(list "${CPU_RUNS[$key]}") | $(median <<<"${CPU_RUNS[$key]}") | $(list "${RATIO_RUNS[$key]}") | $(median <<<"${RATIO_RUNS[$key]}") | $(ratio "$eff_med" "$nginx_med") |"
        done
    done
fi
