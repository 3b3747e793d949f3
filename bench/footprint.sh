#!/usr/bin/env bash
# Footprint of both server builds, measured the same way in one run:
# stripped binary size, idle RSS and threads, then RSS, CPU and threads with one
# ~500 kbps publisher (ffmpeg) and N RTMP players (rtmp-load) on loopback.
#
#   bench/footprint.sh                 # N=100 players, 30 s
#   N=200 SECS=60 bench/footprint.sh
#
# Only 127.0.0.1 is used; only processes this script started are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
SECS=${SECS:-30}
PROFILE=${PROFILE:-release-small}
work=$(mktemp -d /tmp/rtmp-footprint.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet --profile "$PROFILE" -p server-tokio -p server-smol
cargo build --quiet --release -p bench
TARGET=${CARGO_TARGET_DIR:-target}
LOAD=$TARGET/release/rtmp-load

# ~500 kbps H.264 + AAC, 10 s, looped by the publisher.
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440 \
    -t 10 -c:v libx264 -preset veryfast -b:v 430k -maxrate 450k -bufsize 900k -g 50 \
    -c:a aac -b:a 64k -f flv "$work/in.flv"

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

start_server() {
    local bin=$1
    cat > "$work/s.conf" <<CONF
listen 127.0.0.1:0;
max_connections 10000;
pid $work/s.pid;
srs_log_tank file;
srs_log_file $work/server.log;
srs_log_level warn;
http_api { enabled on; listen 127.0.0.1:0; }
http_server { enabled on; listen 127.0.0.1:0; dir $work/html; }
vhost __defaultVhost__ { hls { enabled on; hls_path $work/html; } http_remux { enabled on; } }
CONF
    : > "$work/out.log"
    rm -f "$work/server.log"
    RUST_LOG=info "$bin" -c "$work/s.conf" 2> "$work/out.log" &
    server=$!
    pids+=("$server")
    for _ in $(seq 100); do
        grep -q "rtmp listening on" "$work/server.log" "$work/out.log" 2>/dev/null && break
        sleep 0.1
    done
    port=$(grep -ho "rtmp listening on [0-9.:]*" "$work/server.log" "$work/out.log" | head -1 | sed 's/.*://')
}

printf '| binary | stripped size | idle RSS | idle threads | RSS, 1 pub + %s players | CPU, 1 pub + %s players | threads under load | players at ≥95%% bitrate |\n' "$N" "$N"
printf '|---|---|---|---|---|---|---|---|\n'
for name in rtmp-server rtmp-server-smol; do
    bin=$TARGET/$PROFILE/$name
    size=$(stat -c %s "$bin")
    start_server "$bin"
    sleep 2
    idle_rss=$(status "$server" VmRSS)
    idle_threads=$(status "$server" Threads)
    ffmpeg -v error -re -stream_loop -1 -i "$work/in.flv" -c copy -f flv "rtmp://127.0.0.1:$port/live/fp" &
    pids+=("$!")
    publisher=$!
    sleep 3
    c0=$(cpu_ticks "$server")
    "$LOAD" -q --json -n "$N" -r 200 -d "$SECS" "rtmp://127.0.0.1:$port/live/fp" > "$work/load.json"
    c1=$(cpu_ticks "$server")
    rss=$(status "$server" VmRSS)
    threads=$(status "$server" Threads)
    cpu=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" -v s="$SECS" 'BEGIN {printf "%.1f%% of a core", 100 * (b - a) / t / s}')
    ok=$(python3 -c "
import json,sys
d=json.load(open('$work/load.json'))
c=d.get('connections',[])
rates=[x.get('kbps',0) for x in c]
if not rates: print('n/a'); sys.exit()
top=max(rates)
print(f\"{sum(1 for r in rates if r >= 0.95*top)}/{len(rates)}\")
" 2>/dev/null || echo n/a)
    kill "$publisher" "$server" 2>/dev/null || true
    wait "$publisher" "$server" 2>/dev/null || true
    printf '| %s | %.2f MB | %.1f MB | %s | %.1f MB | %s | %s | %s |\n' "$name" \
        "$(echo "$size / 1000000" | bc -l)" "$(echo "$idle_rss / 1024" | bc -l)" "$idle_threads" \
        "$(echo "$rss / 1024" | bc -l)" "$cpu" "$threads" "$ok"
done
