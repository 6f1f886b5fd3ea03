// The status page: reads /api/v1/status and /api/v1/series, draws cards, tables and plots, and
// does it again every REFRESH_MS. Every value goes into the page as text, never as HTML: labels
// and requestors are whatever schedulers sent.
'use strict';

(function () {
  const REFRESH_MS = 10000;
  const WAITING_SHOWN = 12;
  const STATES = ['building', 'ready', 'in-use', 'used', 'deleting', 'hold', 'failed'];
  const COLORS = { building: '#f79009', ready: '#12b76a', 'in-use': '#2e90fa', used: '#9e77ed', deleting: '#667085', hold: '#ee46bc', failed: '#f04438' };
  const $ = (id) => document.getElementById(id);

  function age(seconds) {
    if (seconds === null || seconds === undefined) return '';
    const s = Math.max(0, Math.floor(seconds));
    const pad = (n) => String(n).padStart(2, '0');
    return pad(Math.floor(s / 86400)) + ':' + pad(Math.floor(s / 3600) % 24) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : Array.isArray(text) ? text.join(', ') : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  /** Fills `table` with a header row and one row per item; `cols` are [header, value(item), class?]. */
  function fill(table, cols, items, empty) {
    table.textContent = '';
    const head = table.createTHead().insertRow();
    for (const c of cols) { const th = document.createElement('th'); th.textContent = c[0]; head.appendChild(th); }
    const body = table.createTBody();
    if (!items.length) {
      const td = cell(body.insertRow(), empty, 'muted');
      td.colSpan = cols.length;
      return;
    }
    for (const item of items) {
      const tr = body.insertRow();
      for (const c of cols) {
        const v = c[1](item);
        cell(tr, v, c[2] === 'n' ? (v === 0 ? 'n zero' : 'n') : c[2]);
      }
    }
  }

  function cards(s) {
    const box = $('cards');
    box.textContent = '';
    const items = [
      ['nodes', s.nodes.total], ['ready', s.nodes.by_state.ready], ['building', s.nodes.by_state.building],
      ['in use', s.nodes.by_state['in-use']], ['requests waiting', s.requests.waiting],
      ['oldest wait', s.requests.oldest_waiting_age === null ? '—' : age(s.requests.oldest_waiting_age)],
    ];
    for (const [k, v] of items) {
      const d = document.createElement('div');
      d.className = 'card';
      const vv = document.createElement('div'); vv.className = 'v'; vv.textContent = String(v ?? 0);
      const kk = document.createElement('div'); kk.className = 'k'; kk.textContent = k;
      d.append(vv, kk);
      box.appendChild(d);
    }
  }

  function tables(s) {
    const shown = STATES.filter((st) => s.nodes.by_label_provider.some((p) => p.by_state[st]));
    fill($('pools'), [['Label', (p) => p.label], ['Provider', (p) => p.provider], ...shown.map((st) => [st, (p) => p.by_state[st] || 0, 'n'])],
      s.nodes.by_label_provider, 'no nodes');
    fill($('waiting'), [['Request', (r) => r.id], ['Labels', (r) => r.labels], ['Requestor', (r) => r.requestor], ['State', (r) => r.state], ['Waiting', (r) => age(r.age)]],
      s.requests.waiting_list.slice(0, WAITING_SHOWN), 'none waiting');
    if (s.requests.waiting > WAITING_SHOWN) {
      const td = cell($('waiting').tBodies[0].insertRow(), '… and ' + (s.requests.waiting - WAITING_SHOWN) + ' more (/request-list)', 'muted');
      td.colSpan = 5;
    }
    fill($('providers'), [
      ['Provider', (p) => p.provider], ['Health', (p) => p.health], ['Nodes', (p) => p.nodes + (p.max_servers === null ? '' : ' / ' + p.max_servers)],
      ['Instances', (p) => p.instances], ['Cores', (p) => p.cores], ['RAM (MiB)', (p) => p.ram], ['Paused', (p) => p.paused], ['Reason', (p) => p.reason],
      ['Launcher', (p) => p.launcher],
    ], s.providers, 'no providers');
    for (const row of $('providers').tBodies[0].rows) {
      const td = row.cells[1];
      if (!td || !td.textContent) continue;
      const b = document.createElement('span');
      b.className = 'badge ' + (['healthy', 'degraded', 'unhealthy'].includes(td.textContent) ? td.textContent : 'unknown');
      b.textContent = td.textContent;
      td.textContent = '';
      td.appendChild(b);
    }
    fill($('nodes'), [['ID', (n) => n.id], ['Provider', (n) => n.provider], ['Label', (n) => n.label], ['State', (n) => n.state], ['Age', (n) => age(n.age)], ['Address', (n) => n.public_ipv4]],
      s.recent_nodes, 'no nodes');
  }

  function plots(v) {
    const from = Date.parse(v.from);
    const to = Date.parse(v.to);
    const pts = (name) => v.series[name] || [];
    const draw = (id, lines) => { window.drawPlot($(id), lines, from, to); window.plotLegend($(id), lines); };
    draw('plot-waiting', [{ name: 'waiting', color: '#2e90fa', points: pts('requests.waiting') }]);
    draw('plot-wait', [{ name: 'p50', color: '#12b76a', points: pts('requests.wait_p50') }, { name: 'p95', color: '#f79009', points: pts('requests.wait_p95') }]);
    draw('plot-nodes', STATES.filter((st) => pts('nodes.' + st).some((p) => p[1] > 0)).map((st) => ({ name: st, color: COLORS[st], points: pts('nodes.' + st) })));
    draw('plot-failures', [{ name: 'failures', color: '#f04438', points: pts('launch.failures') }]);
  }

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) {
      let message = res.status + ' ' + res.statusText;
      try { message = (await res.json()).error.message; } catch (e) { /* not our error shape */ }
      throw new Error(url + ': ' + message);
    }
    return res.json();
  }

  async function refresh() {
    try {
      const hours = $('hours').value;
      const [s, v] = await Promise.all([getJson('/api/v1/status'), getJson('/api/v1/series?hours=' + hours)]);
      cards(s);
      tables(s);
      plots(v);
      $('error').hidden = true;
      $('updated').textContent = 'updated ' + new Date(s.generated_at).toLocaleTimeString();
      document.body.dataset.loaded = 'true';
    } catch (err) {
      $('error').textContent = String(err.message || err);
      $('error').hidden = false;
    }
  }

  $('hours').addEventListener('change', refresh);
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
