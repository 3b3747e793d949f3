#!/usr/bin/env bash
# Soak: the real binary for a while (default 10 min) under every hostile
# client of the security review (bench/hostile.py: silent sockets, the
# pre-connect memory attack, garbage, a trickling publisher, 7 KB HTTP-FLV
# names, slowloris) together with legitimate publishers, publish churn under
# new names, and RTMP, HTTP-FLV and HLS players (rtmp-load).
#
# It fails (exit 1) if a legitimate client stalled, erred or got no media,
# or if RSS went above the idle RSS plus the server's memory budget
# (`rtmp_reassembly_budget`, read from the API). Prints a Markdown summary
# and keeps the RSS samples in $WORK/rss.csv (KEEP=1 keeps $WORK).
# Not part of CI: it takes as long as it says. Figures go in BENCHMARKS.md.
#
#   bench/soak.sh                       # tokio build, 600 s
#   SERVER=smol DURATION=120 bench/soak.sh
#
# Environment: SERVER (tokio|smol), DURATION (seconds), PLAYERS (RTMP
# players, default 100), SKIP_BUILD=1, CARGO_TARGET_DIR, KEEP=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER=${SERVER:-tokio}
DURATION=${DURATION:-600}
PLAYERS=${PLAYERS:-100}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release
WORK=$(mktemp -d /tmp/rtmp-soak.XXXXXX)
PIDS=()

log() { echo "soak: $*" >&2; }
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building release binaries"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p bench -p server-tokio -p server-smol >&2)
fi
case $SERVER in
    tokio) SRV=$BIN/rtmp-server ;;
    smol) SRV=$BIN/rtmp-server-smol ;;
    *) log "SERVER is tokio or smol"; exit 2 ;;
esac
LOAD=$BIN/rtmp-load

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RTMP=$(port); HTTP=$(port); API=$(port)
mkdir -p "$WORK/html"
cat >"$WORK/soak.conf" <<EOF
listen 127.0.0.1:$RTMP;
max_connections 1000;
pid $WORK/soak.pid;
srs_log_tank file;
srs_log_file $WORK/server.log;
http_server { enabled on; listen 127.0.0.1:$HTTP; dir $WORK/html; }
http_api { enabled on; listen 127.0.0.1:$API; }
vhost __defaultVhost__ {
    hls { enabled on; hls_fragment 2; hls_window 10; hls_path $WORK/html; hls_dispose 30; }
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
EOF

log "generating the test stream"
CLIP=$WORK/clip.flv
timeout 120 ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 20 -c:v libx264 -preset veryfast -b:v 400k -g 50 -keyint_min 50 -sc_threshold 0 \
    -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "$CLIP"

"$SRV" -c "$WORK/soak.conf" >"$WORK/stdout.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$API") 2>/dev/null && break
    sleep 0.1
done
sleep 1
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SPID/status"; }
IDLE_KB=$(rss_kb)
BUDGET=$(curl -s "http://127.0.0.1:$API/api/v1/summaries" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["rtmp_reassembly"]["budget_bytes"])')
log "server pid $SPID, idle RSS ${IDLE_KB} KB, memory budget $((BUDGET / 1024)) KB"

# Sample RSS every 5 s.
(
    echo "seconds,rss_kb,threads"
    start=$(date +%s)
    while kill -0 "$SPID" 2>/dev/null; do
        echo "$(( $(date +%s) - start )),$(rss_kb),$(ls /proc/$SPID/task | wc -l)"
        sleep 5
    done
) >"$WORK/rss.csv" 2>/dev/null &
PIDS+=("$!")

base="rtmp://127.0.0.1:$RTMP/live"
run_load() { # name args...
    local name=$1; shift
    "$LOAD" -q --json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
    PIDS+=("$!")
    LOADS+=("$name:$!")
}
LOADS=()
run_load publishers -m publish -n 3 -r 0 -d "$DURATION" -i "$CLIP" "$base/soak"
sleep 3
run_load churn -m publish --reconnect --hold 2-8 -n 20 -r 5 -d $((DURATION - 10)) -i "$CLIP" "$base/churn"
run_load rtmp_players -n "$PLAYERS" -r 50 -d $((DURATION - 10)) "$base/soak_0"
run_load flv_players -m flv -n 20 -r 20 -d $((DURATION - 10)) "http://127.0.0.1:$HTTP/live/soak_1.flv"
# HLS players join once the playlist lists three segments (RFC 8216 6.3.3:
# a player starts three target durations from the end). One that joined 3 s
# after the publisher found a single segment, and its playback model ran dry
# for a second before the next one was listed: a stall of the harness.
for _ in $(seq 1 60); do
    segments=$(curl -s -m 2 "http://127.0.0.1:$HTTP/live/soak_2.m3u8" | grep -c '^#EXTINF' || true)
    [[ ${segments:-0} -ge 3 ]] && break
    sleep 0.5
done
run_load hls_players -m hls -n 10 -r 10 -d $((DURATION - 20)) "http://127.0.0.1:$HTTP/live/soak_2.m3u8"
python3 "$ROOT/bench/hostile.py" 127.0.0.1 "$RTMP" "$HTTP" $((DURATION - 10)) >"$WORK/hostile.json" 2>"$WORK/hostile.err" &
HPID=$!
PIDS+=("$HPID")

fail=0
for entry in "${LOADS[@]}"; do
    name=${entry%%:*}; pid=${entry##*:}
    wait "$pid" || { log "$name exited with an error: $(tail -3 "$WORK/$name.err")"; fail=1; }
done
wait "$HPID" || { log "hostile.py failed: $(tail -3 "$WORK/hostile.err")"; fail=1; }
END_KB=$(rss_kb)
# A minute after the load, memory should be back near idle.
sleep 60
AFTER_KB=$(rss_kb)
kill -0 "$SPID" 2>/dev/null || { log "the server died"; fail=1; }

python3 - "$WORK" "$IDLE_KB" "$END_KB" "$AFTER_KB" "$BUDGET" "$DURATION" "$SERVER" <<'EOF' || fail=1
import csv, json, sys
work, idle, end, after, budget, duration, server = sys.argv[1:8]
idle, end, after, budget = int(idle), int(end), int(after), int(budget)
bad = False
print(f"\n### Soak: {server}, {duration} s\n")
print("| clients | sessions | stalls | errors | no media |")
print("|---|---|---|---|---|")
for name in ["publishers", "churn", "rtmp_players", "flv_players", "hls_players"]:
    t = json.load(open(f"{work}/{name}.json"))["totals"]
    print(f"| {name} | {t['sessions']} | {t['stalls']} | {t['errors']} | {t['no_media']} |")
    for e in json.load(open(f"{work}/{name}.json")).get("errors", []):
        print(f"|   {name} error: {e['message']} (x{e['count']}) | | | | |")
    # Churn clients disconnect on purpose; everyone else must stay clean.
    if name != "churn" and (t["stalls"] or t["errors"] or t["no_media"]):
        bad = True
    if name == "churn" and (t["errors"] or t["no_media"]):
        bad = True
print("\n| attack | concurrent | connections | closed or refused by the server |")
print("|---|---|---|---|")
for k, v in json.load(open(f"{work}/hostile.json")).items():
    print(f"| {k} | {v['clients']} | {v['made']} | {v['closed']} |")
rows = list(csv.DictReader(open(f"{work}/rss.csv")))
peak = max(int(r["rss_kb"]) for r in rows if r["rss_kb"])
threads = max(int(r["threads"]) for r in rows if r["threads"])
limit = idle + budget // 1024
print(f"\nRSS: idle {idle} KB, peak {peak} KB (limit {limit} KB: idle + budget), "
      f"at the end of the load {end} KB, a minute later {after} KB; threads at most {threads}.")
if peak > limit:
    print("FAIL: RSS went over the budget")
    bad = True
if bad:
    print("FAIL: a legitimate client stalled, erred or got no media")
sys.exit(1 if bad else 0)
EOF
exit $fail
