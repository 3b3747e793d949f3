// The rtmp-server web console: polls the HTTP API (SRS's /api/v1) every
// second, renders vhosts, streams and clients, kicks clients, and plays one
// stream with hls.js or mpegts.js beside live charts drawn here as SVG.
// No framework, no build step: this file is embedded in the server binary.
// Everything shown comes from publishers and clients, so it is only ever put
// in the page as text (textContent), never as HTML.
'use strict';

(function () {
  const POLL_MS = 1000;
  const HISTORY = 120; // chart points kept per stream (two minutes at 1 s)
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);

  const state = {
    config: null,
    api: '',
    auth: sessionStorage.getItem('console-auth') || '',
    streams: [],
    clients: [],
    vhosts: [],
    summary: null,
    prev: new Map(), // stream id -> {t, recv, send}
    history: new Map(), // stream id -> [{t, in, out, players}]
    rates: new Map(), // stream id -> {in, out} kbit/s
    player: null, // {kind, destroy}
    playerStream: null,
    urls: null,
    timer: null,
    needLogin: false,
    loaded: false, // a poll has succeeded
  };

  // ---- formatting -------------------------------------------------------
  function kbps(v) {
    if (v == null || !isFinite(v)) return '–';
    if (v >= 10000) return (v / 1000).toFixed(1) + ' Mbit/s';
    return Math.round(v) + ' kbit/s';
  }
  function duration(secs) {
    if (secs == null || !isFinite(secs) || secs < 0) return '–';
    secs = Math.floor(secs);
    const d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24;
    const m = Math.floor(secs / 60) % 60, s = secs % 60;
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + String(m).padStart(2, '0') + 'm';
    return m + ':' + String(s).padStart(2, '0');
  }
  function videoText(v) {
    if (!v) return '–';
    const res = v.width && v.height ? ' ' + v.width + '×' + v.height : '';
    const prof = v.profile && v.profile !== 'Other' ? ' ' + v.profile : '';
    return v.codec + prof + res;
  }
  function audioText(a) {
    if (!a) return '–';
    const rate = a.sample_rate ? ' ' + (a.sample_rate / 1000) + ' kHz' : '';
    const ch = a.channel ? (a.channel === 1 ? ' mono' : a.channel === 2 ? ' stereo' : ' ' + a.channel + 'ch') : '';
    return a.codec + rate + ch;
  }
  function streamPath(s) {
    return (s.vhost && s.vhost !== '__defaultVhost__' ? s.vhost + '/' : '') + s.app + '/' + s.name;
  }
  function players(s) {
    return Math.max(0, (s.clients || 0) - (s.publish && s.publish.active ? 1 : 0));
  }
  function uptime(s) {
    if (!s.publish || !s.publish.active || !s.live_ms) return null;
    const now = state.summary && state.summary.now_ms ? state.summary.now_ms : Date.now();
    return (now - s.live_ms) / 1000;
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else if (k === 'href') e.setAttribute('href', v);
      else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
    return e;
  }

  // ---- the API ----------------------------------------------------------
  function setStatus(ok, text) {
    $('status-dot').className = 'dot ' + (ok ? 'ok' : 'bad');
    $('status-text').textContent = text;
  }

  async function api(path, method) {
    const headers = {};
    if (state.auth) headers.Authorization = 'Basic ' + state.auth;
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), 5000);
    let resp;
    try {
      resp = await fetch(state.api + path, { method: method || 'GET', headers, signal: ctl.signal, cache: 'no-store' });
    } finally {
      clearTimeout(t);
    }
    if (resp.status === 401) {
      const err = new Error('credentials required');
      err.unauthorized = true;
      throw err;
    }
    const body = await resp.json().catch(() => null);
    if (!body) throw new Error('HTTP ' + resp.status + ' from ' + path);
    if (body.code !== 0 && !(method === 'DELETE' && resp.ok)) {
      const err = new Error('API error ' + body.code + ' (HTTP ' + resp.status + ')');
      err.code = body.code;
      throw err;
    }
    return body;
  }

  function showLogin(message) {
    state.needLogin = true;
    $('login').hidden = false;
    $('login-api').textContent = state.api || location.origin;
    $('login-error').textContent = message || '';
    setStatus(false, 'sign in required');
    stopPlayer();
    state.playerStream = null;
    render();
  }

  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const user = $('login-user').value, pass = $('login-pass').value;
    // btoa takes Latin-1: encode UTF-8 first (RFC 7617 charset="UTF-8").
    const bytes = new TextEncoder().encode(user + ':' + pass);
    state.auth = btoa(String.fromCharCode(...bytes));
    sessionStorage.setItem('console-auth', state.auth);
    state.needLogin = false;
    $('login').hidden = true;
    poll();
  });

  async function poll() {
    clearTimeout(state.timer);
    try {
      const [streams, clients, vhosts, summary] = await Promise.all([
        api('/api/v1/streams?count=1000'),
        api('/api/v1/clients?count=1000'),
        api('/api/v1/vhosts?count=1000'),
        api('/api/v1/summaries'),
      ]);
      state.streams = streams.streams || [];
      state.clients = clients.clients || [];
      state.vhosts = vhosts.vhosts || [];
      state.summary = summary.data || null;
      state.loaded = true;
      sample();
      render();
      setStatus(true, 'live · updated ' + new Date().toLocaleTimeString());
      state.timer = setTimeout(poll, POLL_MS);
    } catch (e) {
      if (e.unauthorized) {
        if (state.auth) {
          state.auth = '';
          sessionStorage.removeItem('console-auth');
          showLogin('Those credentials were refused.');
        } else {
          showLogin();
        }
        return; // resumes on sign-in
      }
      // fetch() says only "Failed to fetch" for a refused connection and a
      // CORS refusal alike: name both.
      const why = e instanceof TypeError
        ? 'cannot reach ' + (state.api || location.origin) + ' (down, or CORS: is this page\'s origin allowed?)'
        : e.name === 'AbortError' ? 'no answer from ' + (state.api || location.origin) + ' within 5 s' : e.message;
      setStatus(false, 'API unreachable: ' + why);
      state.timer = setTimeout(poll, POLL_MS * 2);
    }
  }

  // Rates from byte counters between two polls (the API's own kbps are 30 s
  // averages, too slow for a live chart); the first poll falls back to them.
  function sample() {
    const now = performance.now();
    const seen = new Set();
    for (const s of state.streams) {
      seen.add(s.id);
      const p = state.prev.get(s.id);
      let rin = s.kbps ? s.kbps.recv_30s : 0, rout = s.kbps ? s.kbps.send_30s : 0;
      if (p && now > p.t) {
        const ms = now - p.t;
        rin = Math.max(0, (s.recv_bytes - p.recv) * 8 / ms);
        rout = Math.max(0, (s.send_bytes - p.send) * 8 / ms);
      }
      state.prev.set(s.id, { t: now, recv: s.recv_bytes, send: s.send_bytes });
      state.rates.set(s.id, { in: rin, out: rout });
      const h = state.history.get(s.id) || [];
      h.push({ t: now, in: rin, out: rout, players: players(s) });
      while (h.length > HISTORY) h.shift();
      state.history.set(s.id, h);
    }
    for (const id of [...state.prev.keys()]) {
      if (!seen.has(id)) { state.prev.delete(id); state.rates.delete(id); }
    }
  }

  // ---- rendering --------------------------------------------------------
  function render() {
    const route = currentRoute();
    // Signed out, the views would show an empty server: show the form alone.
    $('view-overview').hidden = state.needLogin || route.view !== 'overview';
    $('view-stream').hidden = state.needLogin || route.view !== 'stream';
    if (state.needLogin) return;
    if (route.view === 'overview') renderOverview();
    else renderStream(route.id);
  }

  function currentRoute() {
    const m = location.hash.match(/^#\/stream\/(\d+)$/);
    return m ? { view: 'stream', id: Number(m[1]) } : { view: 'overview' };
  }

  function fill(tbody, rows, emptyId) {
    tbody.replaceChildren(...rows);
    if (emptyId) $(emptyId).hidden = rows.length > 0;
  }

  function renderOverview() {
    if (!state.loaded) {
      // Nothing heard from the API yet: show no figures rather than zeros.
      for (const id of ['sum-streams', 'sum-clients', 'sum-in', 'sum-out', 'sum-uptime']) $(id).textContent = '–';
      for (const id of ['streams-empty', 'clients-empty']) $(id).hidden = true;
      return;
    }
    const sum = state.summary;
    const published = state.streams.filter((s) => s.publish && s.publish.active);
    let tin = 0, tout = 0;
    for (const s of published) { const r = state.rates.get(s.id) || {}; tin += r.in || 0; tout += r.out || 0; }
    $('sum-streams').textContent = published.length;
    $('sum-clients').textContent = state.clients.length;
    $('sum-in').textContent = kbps(tin);
    $('sum-out').textContent = kbps(tout);
    $('sum-uptime').textContent = sum && sum.self ? duration(sum.self.srs_uptime) : '–';

    fill($('streams-body'), published.map((s) => {
      const r = state.rates.get(s.id) || {};
      const path = streamPath(s);
      return el('tr', { 'data-stream': path, 'data-id': s.id },
        el('td', {}, el('a', { href: '#/stream/' + s.id, class: 'stream-link' }, path)),
        el('td', {}, s.vhost),
        el('td', { class: 'video' }, videoText(s.video)),
        el('td', { class: 'audio' }, audioText(s.audio)),
        el('td', { class: 'num rate-in' }, kbps(r.in)),
        el('td', { class: 'num rate-out' }, kbps(r.out)),
        el('td', { class: 'num players' }, players(s)),
        el('td', { class: 'num uptime' }, duration(uptime(s))));
    }), 'streams-empty');

    fill($('clients-body'), state.clients.map(clientRow), 'clients-empty');

    fill($('vhosts-body'), state.vhosts.map((v) => el('tr', { 'data-vhost': v.name },
      el('td', {}, v.name),
      el('td', {}, v.hls && v.hls.enabled ? 'on' + (v.hls.fragment ? ' (' + v.hls.fragment + ' s)' : '') : 'off'),
      el('td', { class: 'num' }, v.streams),
      el('td', { class: 'num' }, v.clients),
      el('td', { class: 'num' }, kbps(v.kbps && v.kbps.recv_30s)),
      el('td', { class: 'num' }, kbps(v.kbps && v.kbps.send_30s)))));
  }

  function clientRow(c) {
    const kick = el('button', { type: 'button', class: 'kick', 'data-kick': c.id }, 'Kick');
    kick.addEventListener('click', () => kickClient(c.id, kick));
    const stream = state.streams.find((s) => s.id === c.stream);
    const where = stream ? el('a', { href: '#/stream/' + stream.id }, streamPath(stream)) : (c.url || '–');
    return el('tr', { 'data-client': c.id, 'data-type': c.type },
      el('td', {}, c.id),
      el('td', {}, el('span', { class: 'badge ' + (c.publish ? 'pub' : 'play') }, c.type)),
      el('td', {}, c.ip),
      el('td', {}, where),
      el('td', { class: 'num' }, kbps(c.kbps && c.kbps.recv_30s)),
      el('td', { class: 'num' }, kbps(c.kbps && c.kbps.send_30s)),
      el('td', { class: 'num' }, duration(c.alive)),
      el('td', { class: 'actions' }, kick));
  }

  // Two clicks: the first arms the button for three seconds.
  const armed = new Map();
  async function kickClient(id, button) {
    if (!armed.get(id)) {
      armed.set(id, setTimeout(() => armed.delete(id), 3000));
      button.textContent = 'Kick?';
      button.classList.add('armed');
      return;
    }
    clearTimeout(armed.get(id));
    armed.delete(id);
    button.disabled = true;
    try {
      await api('/api/v1/clients/' + id, 'DELETE');
    } catch (e) {
      if (e.unauthorized) return showLogin();
      if (e.code !== 2049) setStatus(false, 'kick failed: ' + e.message);
    }
    poll();
  }

  function renderStream(id) {
    const s = state.streams.find((x) => x.id === id);
    $('st-gone').hidden = !!(s && s.publish && s.publish.active);
    if (!s) {
      $('st-title').textContent = 'stream ' + id;
      return;
    }
    const r = state.rates.get(s.id) || {};
    $('st-title').textContent = streamPath(s);
    $('st-video').textContent = videoText(s.video);
    $('st-audio').textContent = audioText(s.audio);
    $('st-in').textContent = kbps(r.in);
    $('st-out').textContent = kbps(r.out);
    $('st-players').textContent = players(s);
    $('st-uptime').textContent = duration(uptime(s));
    const mine = state.clients.filter((c) => c.stream === s.id);
    fill($('st-clients-body'), mine.map(clientRow));
    const h = state.history.get(s.id) || [];
    drawChart($('chart-bitrate'), h, [{ key: 'in', cls: 'in' }, { key: 'out', cls: 'out' }]);
    drawChart($('chart-players'), h, [{ key: 'players', cls: 'players' }], true);
    if (state.playerStream !== s.id) openStream(s);
  }

  // ---- charts (SVG, drawn here) -------------------------------------------
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }
  function niceMax(v, integer) {
    if (!(v > 0)) return integer ? 1 : 10;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return integer ? Math.max(1, Math.ceil(m * p)) : m * p;
    return v;
  }
  function drawChart(node, history, series, integer) {
    const box = node.viewBox.baseVal;
    const W = box.width, H = box.height, L = 44, R = 6, T = 8, B = 16;
    let max = 0;
    for (const p of history) for (const s of series) max = Math.max(max, p[s.key] || 0);
    max = niceMax(max, integer);
    const x = (i) => L + (W - L - R) * (HISTORY === 1 ? 0 : (i + HISTORY - history.length) / (HISTORY - 1));
    const y = (v) => T + (H - T - B) * (1 - Math.min(v, max) / max);
    const parts = [];
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      parts.push(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline' }));
      if (!integer || Number.isInteger(v)) {
        parts.push(svg('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' },
          v >= 1000 ? (v / 1000).toFixed(v % 1000 ? 1 : 0) + 'k' : Math.round(v * 10) / 10));
      }
    }
    parts.push(svg('text', { x: W - R, y: H - 3, class: 'tick', 'text-anchor': 'end' }, 'now'));
    parts.push(svg('text', { x: L, y: H - 3, class: 'tick' }, '-' + HISTORY + ' s'));
    let points = 0;
    for (const s of series) {
      const pts = history.map((p, i) => x(i).toFixed(1) + ',' + y(p[s.key] || 0).toFixed(1));
      points = Math.max(points, pts.length);
      if (pts.length > 1) {
        const area = x(0).toFixed(1) + ',' + y(0) + ' ' + pts.join(' ') + ' ' + x(history.length - 1).toFixed(1) + ',' + y(0);
        parts.push(svg('polygon', { points: area, class: 'area ' + s.cls }));
      }
      parts.push(svg('polyline', { points: pts.join(' '), class: 'line ' + s.cls }));
      if (pts.length) {
        const last = history[history.length - 1];
        parts.push(svg('circle', { cx: x(history.length - 1), cy: y(last[s.key] || 0), r: 3, class: 'dotp ' + s.cls }));
      }
    }
    node.setAttribute('data-points', points);
    node.replaceChildren(...parts);
  }

  // ---- players ----------------------------------------------------------
  const loaded = new Map();
  function loadScript(source) {
    if (loaded.has(source.src)) return loaded.get(source.src);
    const p = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = source.src;
      if (source.integrity) {
        s.integrity = source.integrity;
        s.crossOrigin = 'anonymous';
      }
      s.onload = resolve;
      s.onerror = () => { loaded.delete(source.src); reject(new Error('could not load ' + source.src)); };
      document.head.append(s);
    });
    loaded.set(source.src, p);
    return p;
  }

  async function openStream(s) {
    state.playerStream = s.id;
    const q = new URLSearchParams({ vhost: s.vhost, app: s.app, stream: s.name });
    try {
      const resp = await fetch('urls.json?' + q.toString(), { cache: 'no-store' });
      state.urls = await resp.json();
    } catch (e) {
      state.urls = {};
    }
    const u = state.urls || {};
    $('url-hls').value = u.hls ? location.origin + u.hls : 'HLS is off for this vhost';
    $('url-flv').value = u.flv ? location.origin + u.flv : 'http_remux is off for this vhost';
    $('url-rtmp').value = u.rtmp || '';
    const want = params.get('player') || (u.hls ? 'hls' : u.flv ? 'flv' : 'off');
    play(want);
  }

  function stopPlayer() {
    if (state.player) {
      try { state.player.destroy(); } catch (e) { /* already gone */ }
      state.player = null;
    }
    const v = $('video');
    v.removeAttribute('src');
    v.load();
  }

  async function play(kind) {
    stopPlayer();
    $('player-error').textContent = '';
    for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.player === kind);
    const v = $('video');
    const u = state.urls || {};
    const players = state.config.players;
    try {
      if (kind === 'hls' && u.hls) {
        const url = location.origin + u.hls;
        await loadScript(players.hls);
        if (window.Hls && Hls.isSupported()) {
          const hls = new Hls({ liveDurationInfinity: true });
          hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) $('player-error').textContent = 'hls.js: ' + d.details; });
          hls.loadSource(url);
          hls.attachMedia(v);
          state.player = { kind, destroy: () => hls.destroy() };
        } else if (v.canPlayType('application/vnd.apple.mpegurl')) {
          v.src = url; // Safari plays HLS natively
          state.player = { kind, destroy: () => {} };
        } else {
          throw new Error('this browser has neither Media Source Extensions nor native HLS');
        }
      } else if (kind === 'flv' && u.flv) {
        await loadScript(players.mpegts);
        if (!window.mpegts || !mpegts.isSupported()) throw new Error('this browser cannot play HTTP-FLV (no MSE)');
        const p = mpegts.createPlayer({ type: 'flv', isLive: true, url: location.origin + u.flv },
          { enableStashBuffer: false, liveBufferLatencyChasing: true });
        p.on(mpegts.Events.ERROR, (type, detail) => { $('player-error').textContent = 'mpegts.js: ' + type + ' ' + detail; });
        p.attachMediaElement(v);
        p.load();
        state.player = { kind, destroy: () => { p.pause(); p.unload(); p.detachMediaElement(); p.destroy(); } };
      } else {
        return;
      }
      v.play().catch(() => { /* autoplay refused: the controls are there */ });
    } catch (e) {
      $('player-error').textContent = e.message;
    }
  }

  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => play(b.dataset.player));
  for (const b of document.querySelectorAll('.copy')) {
    b.addEventListener('click', async () => {
      const input = $(b.dataset.copy);
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (e) {
        input.select();
        document.execCommand('copy');
      }
      b.textContent = 'Copied';
      setTimeout(() => { b.textContent = 'Copy'; }, 1500);
    });
  }

  window.addEventListener('hashchange', () => {
    if (currentRoute().view !== 'stream') { stopPlayer(); state.playerStream = null; }
    else state.playerStream = null;
    render();
  });

  // ---- start ------------------------------------------------------------
  async function start() {
    try {
      const resp = await fetch('config.json', { cache: 'no-store' });
      state.config = await resp.json();
    } catch (e) {
      state.config = { api: '', players: {}, rtmp: 'rtmp://' + location.hostname };
    }
    // ?api=http://host:1985 calls another API than the configured one.
    const override = params.get('api');
    state.api = (override != null ? override : state.config.api || '').replace(/\/+$/, '');
    $('api-base').textContent = 'API ' + (state.api || location.origin);
    $('version').textContent = 'rtmp-server ' + (state.config.version || '');
    for (const e of document.querySelectorAll('.rtmp-base')) e.textContent = state.config.rtmp;
    render();
    poll();
  }
  start();
})();
