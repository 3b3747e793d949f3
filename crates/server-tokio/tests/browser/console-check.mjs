// Drives the server's web console (/console/) in headless Chromium as a
// person would, and prints what it saw as one JSON object on stdout. Driven
// by ../console.rs, which decides what counts as right; this script only
// acts and observes, and saves screenshots into OUT_DIR.
//
//   node console-check.mjs CONSOLE_URL OUT_DIR STREAM [USER PASS]
//
// Steps: open the console (signing in when it asks), write OUT_DIR/ready,
// wait for STREAM's row (the test publishes after `ready`), screenshot the
// list, kick the first rtmp-play client and wait for its row to go, open the
// stream's page, play HLS then HTTP-FLV watching the video advance, and
// screenshot each.
//
// CHROMIUM selects the browser binary (default: chromium on PATH). With
// UNREACHABLE_URL, that console page (whose API is down) is checked first.

import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, outDir, stream, user, pass] = process.argv.slice(2);
if (!url || !outDir || !stream) {
  console.error('usage: node console-check.mjs CONSOLE_URL OUT_DIR STREAM [USER PASS]');
  process.exit(2);
}

const report = { consoleErrors: [], failedRequests: [], steps: [] };
const step = (name) => report.steps.push({ name, at: Date.now() });

async function watchVideo(page, secs) {
  const samples = [];
  for (let i = 0; i < secs * 2; i++) {
    samples.push(await page.evaluate(() => {
      const v = document.getElementById('video');
      return { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight, paused: v.paused,
        error: document.getElementById('player-error').textContent };
    }));
    await page.waitForTimeout(500);
  }
  return samples;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || 'chromium',
  args: ['--autoplay-policy=no-user-gesture-required'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => report.consoleErrors.push('pageerror: ' + e.message));
  page.on('requestfailed', (r) => report.failedRequests.push(r.url() + ' ' + (r.failure() || {}).errorText));

  // First, optionally, a page whose API is unreachable: it must say so.
  if (process.env.UNREACHABLE_URL) {
    await page.goto(process.env.UNREACHABLE_URL);
    await page.waitForSelector('#status-dot.bad', { timeout: 15000 });
    report.unreachableStatus = await page.$eval('#status-text', (e) => e.textContent);
    await page.screenshot({ path: join(outDir, 'unreachable.png') });
  }
  await page.goto(url);
  step('loaded');
  report.loginAsked = false;
  if (user) {
    await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
    report.loginAsked = true;
    await page.screenshot({ path: join(outDir, 'login.png') });
    await page.fill('#login-user', user);
    await page.fill('#login-pass', pass || '');
    await page.click('#login-form button[type=submit]');
  }
  await page.waitForSelector('#status-dot.ok', { timeout: 10000 });
  // Without credentials to give, the page must not have asked for any.
  if (!user) report.loginAsked = await page.$eval('#login', (e) => !e.hidden);
  report.apiReached = true;
  writeFileSync(join(outDir, 'ready'), String(Date.now()));

  // The stream's row, as soon as the API lists it.
  const row = `tr[data-stream="live/${stream}"]`;
  await page.waitForSelector(row, { timeout: 30000 });
  report.rowSeenAt = Date.now();
  step('row');
  // A few polls, so the rates come from byte counts.
  await page.waitForTimeout(3500);
  report.row = await page.$eval(row, (tr) => ({
    video: tr.querySelector('.video').textContent,
    audio: tr.querySelector('.audio').textContent,
    rateIn: tr.querySelector('.rate-in').textContent,
    players: tr.querySelector('.players').textContent,
    uptime: tr.querySelector('.uptime').textContent,
    id: tr.dataset.id,
  }));
  report.clientTypes = await page.$$eval('#clients-body tr', (rows) => rows.map((r) => r.dataset.type));
  await page.screenshot({ path: join(outDir, 'list.png'), fullPage: true });

  // Kick the RTMP player the test started.
  const player = await page.$('#clients-body tr[data-type="rtmp-play"]');
  if (player) {
    const id = await player.getAttribute('data-client');
    report.kicked = Number(id);
    const button = `#clients-body tr[data-client="${id}"] button.kick`;
    await page.click(button);
    await page.click(button);
    const t0 = Date.now();
    await page.waitForSelector(`#clients-body tr[data-client="${id}"]`, { state: 'detached', timeout: 10000 });
    report.kickGoneMs = Date.now() - t0;
  }

  // The stream's page: HLS first.
  await page.click(`${row} a.stream-link`);
  await page.waitForSelector('#view-stream:not([hidden])');
  step('stream page');
  report.hls = await watchVideo(page, 10);
  report.urls = await page.evaluate(() => ({
    hls: document.getElementById('url-hls').value,
    flv: document.getElementById('url-flv').value,
    rtmp: document.getElementById('url-rtmp').value,
  }));
  report.bitrateChartPoints = Number(await page.getAttribute('#chart-bitrate', 'data-points'));
  report.playersChartPoints = Number(await page.getAttribute('#chart-players', 'data-points'));
  report.facts = await page.$eval('.facts', (d) => d.innerText);
  await page.screenshot({ path: join(outDir, 'stream-hls.png'), fullPage: true });

  // Then HTTP-FLV with mpegts.js: this player is a client of the stream.
  await page.click('button[data-player="flv"]');
  step('flv');
  report.flv = await watchVideo(page, 8);
  report.playersAfterFlv = await page.$eval('#st-players', (d) => d.textContent);
  report.streamClientTypes = await page.$$eval('#st-clients-body tr', (rows) => rows.map((r) => r.dataset.type));
  await page.screenshot({ path: join(outDir, 'stream-flv.png'), fullPage: true });
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
