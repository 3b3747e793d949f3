#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit/property/snapshot/end-to-end
# tests, and (in CI, or with --fuzz) a short run of every cargo-fuzz target.
#
# On a fresh Debian machine it first installs the real clients the end-to-end tests
# drive (ffmpeg, rtmpdump, curl, GStreamer, Chromium, node) with apt-get when they are
# missing, and hls.js with npm.
#
#   scripts/test.sh            # everything but fuzzing
#   scripts/test.sh --fuzz     # plus 20 s per fuzz target, two at a time (CI=true implies it)
#   FUZZ_SECONDS=10 scripts/test.sh --fuzz
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz=0
[ "${CI:-}" = "true" ] && fuzz=1
for arg in "$@"; do
    case "$arg" in
        --fuzz) fuzz=1 ;;
        --no-fuzz) fuzz=0 ;;
        *) echo "usage: scripts/test.sh [--fuzz|--no-fuzz]" >&2; exit 2 ;;
    esac
done

# Each step prints the minutes since the start, so a slow CI run shows where it went.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# --- 1. system packages the end-to-end tests use -------------------------------
need_pkgs=()
command -v ffmpeg >/dev/null || need_pkgs+=(ffmpeg)
command -v rtmpdump >/dev/null || need_pkgs+=(rtmpdump)
# promtool (Debian's prometheus package) checks /metrics (crates/server-tokio/tests/metrics.rs).
command -v promtool >/dev/null || need_pkgs+=(prometheus)
command -v curl >/dev/null || need_pkgs+=(curl ca-certificates)
# The rtmp-client C examples are built with gcc; its C ABI runs under valgrind.
command -v gcc >/dev/null || need_pkgs+=(gcc libc6-dev)
command -v valgrind >/dev/null || need_pkgs+=(valgrind)
command -v gst-launch-1.0 >/dev/null || need_pkgs+=(gstreamer1.0-tools gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav)
# hls.js in headless Chromium (crates/server-tokio/tests/browser.rs).
command -v node >/dev/null || need_pkgs+=(nodejs npm)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || command -v google-chrome >/dev/null || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    step "installing ${need_pkgs[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    if command -v apt-get >/dev/null; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
    else
        echo "NOTICE: no apt-get; tests that need ${need_pkgs[*]} will skip" >&2
    fi
fi

# A modern ffmpeg (PyPI's imageio-ffmpeg ships a static build) whose connect carries
# Enhanced RTMP properties, like OBS 30's. Optional: its test skips without it.
if command -v python3 >/dev/null && ! python3 -c 'import imageio_ffmpeg' 2>/dev/null; then
    step "installing imageio-ffmpeg (modern ffmpeg build) with pip"
    python3 -m pip install --quiet imageio-ffmpeg 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages imageio-ffmpeg 2>/dev/null \
        || echo "NOTICE: could not install imageio-ffmpeg; the modern-ffmpeg test will skip" >&2
fi

# hls.js and playwright-core, pinned by the lockfile, into tests/browser/node_modules.
if command -v npm >/dev/null; then
    step "npm ci (hls.js, playwright-core for the browser tests)"
    npm ci --prefix crates/server-tokio/tests/browser --no-audit --no-fund --loglevel=error \
        || echo "NOTICE: npm ci failed; the browser tests will skip (or fail in CI)" >&2
fi
# In CI a browser test that cannot run is a failure, not a skip.
[ "${CI:-}" = "true" ] && export RTMP_TEST_REQUIRE_BROWSER=1

# --- 2. format and lints ------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# --- 3. tests -----------------------------------------------------------------------
step "cargo test"
cargo test --workspace --quiet --no-fail-fast 2>&1 | tee /tmp/rtmp-server-test.log

# --- 4. fuzzing (short runs so a crash fails the build) -----------------------------
if [ "$fuzz" = 1 ]; then
    # 22 targets, two at a time (one per core: nothing else runs now), 20 s each.
    secs=${FUZZ_SECONDS:-20}
    if ! command -v cargo-fuzz >/dev/null; then
        step "installing cargo-fuzz"
        cargo install --locked cargo-fuzz --quiet
    fi
    # cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
    export RUSTC_BOOTSTRAP=1
    targets=$(cd fuzz && cargo fuzz list)
    step "building fuzz targets"
    (cd fuzz && cargo fuzz build --release)
    step "fuzz every target for ${secs}s, two at a time"
    # One target's run: its output is kept and shown whole only when it fails
    # (a crash, a leak, an out-of-memory), else its last line.
    fuzz_one() {
        local t=$1 out
        # The shipped configs seed the config fuzzer (libFuzzer adds what it
        # finds to the first directory, fuzz/corpus/T, which git ignores).
        local seeds=()
        [ "$t" = config_text ] && seeds=("corpus/$t" ../conf)
        mkdir -p "fuzz/corpus/$t"
        if out=$(cd fuzz && cargo fuzz run "$t" --release "${seeds[@]}" -- \
                -max_total_time="$secs" -rss_limit_mb=2048 2>&1); then
            printf 'fuzz %s: %s\n' "$t" "$(printf '%s\n' "$out" | tail -n 1)"
        else
            printf '%s\n' "$out" | tail -n 60
            printf 'fuzz %s FAILED\n' "$t"
            return 1
        fi
    }
    export -f fuzz_one
    export secs
    # xargs exits non-zero when any target failed.
    printf '%s\n' $targets | xargs -P 2 -I{} bash -c 'fuzz_one "$1"' _ {}
fi
echo
echo "all checks passed"
