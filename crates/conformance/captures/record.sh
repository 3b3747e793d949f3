#!/usr/bin/env bash
# Re-records the captures in this directory: real clients (ffmpeg, rtmpdump,
# GStreamer) against our own rtmp-server on loopback, captured with dumpcap
# (tshark's capture engine). See README.md for what each capture holds.
#
# Usage: crates/conformance/captures/record.sh [NAME...]
#   NAME: ffmpeg_publish ffmpeg_play rtmpdump_play gst_publish gst_play
#         ffmpeg9_multitrack_publish ffmpeg9_multitrack_play (default: all)
# Environment: RTMP_SERVER (default: target/debug/rtmp-server, built if absent),
#   PORT (default 19350), MODERN_FFMPEG (an ffmpeg 8+ for the E-RTMP v2
#   multitrack captures; default: the one PyPI's imageio-ffmpeg ships).
#   Needs dumpcap (root or the wireshark group), ffmpeg, rtmpdump,
#   gst-launch-1.0 with rtmp2 (gst-plugins-bad) and flv plugins.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PORT=${PORT:-19350}
SERVER=${RTMP_SERVER:-$ROOT/target/debug/rtmp-server}
URL=rtmp://127.0.0.1:$PORT/live
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

if [ ! -x "$SERVER" ]; then
    (cd "$ROOT" && cargo build -p server-tokio)
fi

# The server: default vhost, no HLS (the replay makes its own), our port.
cat > "$WORK/rtmp.conf" <<CONF
listen              $PORT;
daemon              off;
srs_log_tank        console;
vhost __defaultVhost__ {
}
CONF

# 2 s of low-bitrate media: 160x120 test pattern, H.264 baseline 15 fps with a
# key frame every second, mono AAC at 22.05 kHz. About 20 KB.
ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i testsrc=size=160x120:rate=15 \
    -f lavfi -i sine=frequency=440:sample_rate=22050 -t 2 \
    -c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline -pix_fmt yuv420p \
    -g 15 -b:v 60k -threads 1 -c:a aac -b:a 24k -ac 1 -f flv "$WORK/media.flv"

# The modern ffmpeg (E-RTMP v2 multitrack), only when a multitrack capture is asked for.
modern_ffmpeg() {
    if [ -n "${MODERN_FFMPEG:-}" ]; then
        echo "$MODERN_FFMPEG"
    else
        python3 -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())'
    fi
}

# 3 s of E-RTMP v2 multitrack media, written by the modern ffmpeg: two
# H.264 renditions of a test pattern (160x120 as track 0, 96x72 as track 1,
# baseline 15 fps, a key frame every second) and two mono AAC tracks (440
# and 660 Hz, 22.05 kHz). About 40 KB.
multitrack_media() {
    FF9=${FF9:-$(modern_ffmpeg)}
    [ -s "$WORK/multitrack.flv" ] && return 0
    "$FF9" -hide_banner -loglevel error -y \
        -f lavfi -i testsrc=size=160x120:rate=15 \
        -f lavfi -i sine=frequency=440:sample_rate=22050 \
        -f lavfi -i sine=frequency=660:sample_rate=22050 -t 3 \
        -filter_complex "[0:v]split=2[a][b];[b]scale=96:72[c]" \
        -map "[a]" -map "[c]" -map 1:a -map 2:a \
        -c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline -pix_fmt yuv420p \
        -g 15 -b:v:0 60k -b:v:1 30k -threads 1 -c:a aac -b:a 24k -ac 1 \
        -f flv "$WORK/multitrack.flv"
}

wait_port() {
    for _ in $(seq 50); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server did not listen on $PORT" >&2
    exit 1
}

# record NAME COMMAND...: runs COMMAND while the server runs and dumpcap
# captures "tcp port $PORT" on lo into NAME.pcapng.
record() {
    local name=$1
    shift
    "$SERVER" -c "$WORK/rtmp.conf" >"$WORK/$name.server.log" 2>&1 &
    local server=$!
    wait_port
    rm -f "$HERE/$name.pcapng"
    dumpcap -q -i lo -f "tcp port $PORT" -w "$HERE/$name.pcapng" 2>"$WORK/$name.dumpcap.log" &
    local capture=$!
    # dumpcap writes the file header once it captures.
    for _ in $(seq 50); do [ -s "$HERE/$name.pcapng" ] && break; sleep 0.1; done
    sleep 0.5
    # A client that fails (the server closed on it...) is part of the record.
    "$@" || echo "$name: client exited with status $?" >&2
    sleep 0.5
    kill -INT "$capture"
    wait "$capture" || true
    kill -TERM "$server"
    wait "$server" || true
    echo "$name: $(stat -c %s "$HERE/$name.pcapng") bytes"
}

# A publisher that keeps the stream live for 4 s (the media, twice) for the players.
publish_4s() {
    ffmpeg -hide_banner -loglevel error -re -stream_loop 1 -i "$WORK/media.flv" -c copy -f flv "$URL/$1"
}

ffmpeg_publish() {
    ffmpeg -hide_banner -loglevel error -re -i "$WORK/media.flv" -c copy -f flv "$URL/ffmpeg"
}

ffmpeg_play() {
    publish_4s s & local p=$!
    sleep 0.7
    ffmpeg -hide_banner -loglevel error -i "$URL/s" -t 2 -c copy -f null -
    wait $p
}

rtmpdump_play() {
    publish_4s s & local p=$!
    sleep 0.7
    rtmpdump -q -r "$URL/s" --live --stop 2 -o /dev/null || true
    wait $p
}

gst_publish() {
    # No H.264 encoder in this GStreamer build (x264enc absent), so the
    # ffmpeg-encoded media is demuxed and re-muxed by GStreamer's own flvmux
    # and sent in real time by rtmp2sink.
    gst-launch-1.0 -q filesrc location="$WORK/media.flv" ! flvdemux name=d \
        d.video ! queue ! h264parse ! flvmux name=m streamable=true ! rtmp2sink location="$URL/gst" \
        d.audio ! queue ! aacparse ! m.
}

gst_play() {
    publish_4s s & local p=$!
    sleep 0.7
    gst-launch-1.0 -q rtmp2src location="$URL/s" num-buffers=40 ! flvdemux ! fakesink
    wait $p
}

# E-RTMP v2 multitrack: the modern ffmpeg publishes all four tracks.
ffmpeg9_multitrack_publish() {
    "$FF9" -hide_banner -loglevel error -re -i "$WORK/multitrack.flv" -map 0 -c copy \
        -f flv "$URL/multi"
}

# The same publisher, twice the media (6 s); 0.7 s later the modern ffmpeg
# plays it announcing E-RTMP (fourCcList), so it is sent every track.
ffmpeg9_multitrack_play() {
    "$FF9" -hide_banner -loglevel error -re -stream_loop 1 -i "$WORK/multitrack.flv" -map 0 \
        -c copy -f flv "$URL/multi" & local p=$!
    sleep 0.7
    "$FF9" -hide_banner -loglevel error -rtmp_enhanced_codecs avc1,mp4a -i "$URL/multi" \
        -map 0 -t 2 -c copy -f null -
    wait $p
}

names=("$@")
[ ${#names[@]} -eq 0 ] && names=(ffmpeg_publish ffmpeg_play rtmpdump_play gst_publish gst_play
    ffmpeg9_multitrack_publish ffmpeg9_multitrack_play)
for n in "${names[@]}"; do
    case $n in ffmpeg9_*) multitrack_media ;; esac
done
for n in "${names[@]}"; do
    record "$n" "$n"
done
