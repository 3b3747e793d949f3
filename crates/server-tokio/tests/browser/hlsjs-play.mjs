// Plays one HLS URL with hls.js in headless Chromium and prints what the
// player saw as one JSON object on stdout. Driven by ../browser.rs, which
// decides what counts as playing well; this script only observes.
//
//   node hlsjs-play.mjs URL WATCH_SECONDS
//
// The page is served by a small HTTP server of this script's own on another
// loopback port, so the playlist and segments are cross-origin fetches, as on
// an operator's site: without the server's CORS header hls.js cannot load them.
//
// CHROMIUM selects the browser binary (default: chromium on PATH).
// HLSJS_LOW_LATENCY=1 plays in hls.js's low-latency mode (LL-HLS parts,
// blocking reloads) and samples its live latency estimate.
// HLSJS_SEEK=AFTER:TO seeks the video to TO seconds AFTER seconds in, and
// records the `seeked` events (for VOD playlists).
// HLSJS_PROBE_TYPES lists MIME types, one a line, to ask
// MediaSource.isTypeSupported about before playing (`typeSupported`), e.g.
// whether this Chromium decodes HEVC at all. The codecs hls.js picks are
// asked about too (`codecsSupported`).

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [url, watchArg] = process.argv.slice(2);
const watch = Number(watchArg);
if (!url || !(watch > 0)) {
  console.error('usage: node hlsjs-play.mjs URL WATCH_SECONDS');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const hlsSource = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
const page_html = `<!doctype html><html><body>
<video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
</body></html>`;

const site = createServer((req, res) => {
  if (req.url === '/hls.min.js') {
    res.writeHead(200, { 'content-type': 'application/javascript' });
    res.end(hlsSource);
  } else {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page_html);
  }
});
await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${site.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || 'chromium',
  args: ['--autoplay-policy=no-user-gesture-required'],
});
let result;
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/index.html`);

  // Everything the test looks at is recorded in the page as it happens.
  const seek = (process.env.HLSJS_SEEK || '').split(':').map(Number);
  const lowLatency = process.env.HLSJS_LOW_LATENCY === '1';
  const probes = (process.env.HLSJS_PROBE_TYPES || '').split('\n').filter((t) => t);
  await page.evaluate(([src, seek, lowLatency, probes]) => {
    const log = { supported: Hls.isSupported(), version: Hls.version, errors: [], codecs: {},
      codecsSupported: {}, typeSupported: {}, levels: [], fragsChanged: [], samples: [],
      started: performance.now() };
    window.__log = log;
    if (!log.supported) return;
    for (const t of probes) log.typeSupported[t] = MediaSource.isTypeSupported(t);
    const video = document.getElementById('v');
    const hls = new Hls({ lowLatencyMode: lowLatency });
    hls.on(Hls.Events.ERROR, (_, d) => log.errors.push({
      at: (performance.now() - log.started) / 1000, type: d.type, details: d.details, fatal: d.fatal,
      status: d.response ? d.response.code : undefined }));
    hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
      log.levels = d.levels.map((l) => ({ width: l.width, height: l.height, codecs: l.codecSet }));
      video.play().catch((e) => log.errors.push({ type: 'play', details: String(e), fatal: false }));
    });
    hls.on(Hls.Events.BUFFER_CODECS, (_, d) => {
      for (const [kind, track] of Object.entries(d)) {
        if (!track || !track.codec) continue;
        log.codecs[kind] = track.codec;
        log.codecsSupported[kind] =
          MediaSource.isTypeSupported(`${track.container}; codecs="${track.codec}"`);
      }
    });
    hls.on(Hls.Events.FRAG_CHANGED, (_, d) => log.fragsChanged.push({
      at: (performance.now() - log.started) / 1000, sn: d.frag.sn, cc: d.frag.cc,
      currentTime: video.currentTime }));
    hls.loadSource(src);
    hls.attachMedia(video);
    setInterval(() => log.samples.push({
      at: (performance.now() - log.started) / 1000, currentTime: video.currentTime,
      latency: hls.latency }), 500);
    if (seek.length === 2 && seek.every((n) => n >= 0)) {
      log.seeks = [];
      video.addEventListener('seeked', () => log.seeks.push({
        at: (performance.now() - log.started) / 1000, currentTime: video.currentTime }));
      setTimeout(() => { video.currentTime = seek[1]; }, seek[0] * 1000);
    }
  }, [url, seek, lowLatency, probes]);

  await page.waitForTimeout(watch * 1000);
  result = await page.evaluate(() => {
    const video = document.getElementById('v');
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : {};
    return Object.assign(window.__log, {
      videoWidth: video.videoWidth, videoHeight: video.videoHeight,
      currentTime: video.currentTime, paused: video.paused,
      decodedFrames: q.totalVideoFrames, droppedFrames: q.droppedVideoFrames,
      audioDecodedBytes: video.webkitAudioDecodedByteCount,
      mediaError: video.error ? video.error.message || String(video.error.code) : null,
    });
  });
} finally {
  await browser.close();
  site.close();
}
console.log(JSON.stringify(result));
