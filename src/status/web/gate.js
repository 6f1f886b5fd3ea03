// The gate view of the status page: reads /gate/status (absent without a gate: the section stays
// hidden) and draws each pipeline's queues, their changes and every change's jobs with their
// state, elapsed and remaining time and log link; then the changes reported lately. As in
// app.js, every value goes into the page as text.
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function took(ms) {
    if (ms === null || ms === undefined) return '';
    const s = Math.max(0, Math.round(ms / 1000));
    return s >= 60 ? Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's' : s + 's';
  }

  function link(href, text) {
    const a = el('a', null, text);
    if (href && /^https?:\/\//.test(href)) a.href = href;
    return a;
  }

  function job(j) {
    const row = el('div', 'job');
    row.dataset.job = j.name;
    row.append(j.report_url ? link(j.report_url, j.name) : el('span', null, j.name));
    const state = j.result || j.state;
    row.append(el('span', 'badge result-' + state.toLowerCase().replace(/_/g, '-'), state));
    const time = j.state === 'done' ? took(j.elapsed_time) : j.elapsed_time === null ? '' : took(j.elapsed_time) + (j.remaining_time === null ? '' : ' (~' + took(j.remaining_time) + ' left)');
    row.append(el('span', 'muted', time + (j.voting ? '' : ' non-voting')));
    if (j.estimated_time && j.state !== 'done' && j.elapsed_time !== null) {
      const bar = el('span', 'bar');
      const fill = el('i');
      fill.style.width = Math.min(100, Math.round((100 * j.elapsed_time) / j.estimated_time)) + '%';
      bar.append(fill);
      row.append(bar);
    }
    return row;
  }

  function item(i, now) {
    const box = el('div', 'item' + (i.failing_reasons.length ? ' failing' : ''));
    box.dataset.change = i.id;
    const head = el('div', 'item-head');
    head.append(link(i.url, i.id), el('span', null, i.project), el('span', 'badge state-' + i.state, i.state), el('span', 'muted', took(now - i.enqueue_time) + ' in queue'));
    if (i.needs.length) head.append(el('span', 'muted', 'needs ' + i.needs.join(', ')));
    box.append(head, el('div', 'subject', i.subject));
    for (const r of i.failing_reasons) box.append(el('div', 'error', r));
    for (const j of i.jobs) box.append(job(j));
    return box;
  }

  function render(s) {
    const root = $('gate-pipelines');
    root.textContent = '';
    for (const p of s.pipelines) {
      const col = el('div', 'pipeline');
      col.dataset.pipeline = p.name;
      const count = p.change_queues.reduce((n, q) => n + q.heads.flat().length, 0);
      col.append(el('h3', null, p.name + ' (' + count + ')'), el('div', 'muted', p.manager + (p.description ? ': ' + p.description : '')));
      if (!count) col.append(el('div', 'muted', 'no changes'));
      for (const q of p.change_queues) {
        const queue = el('div', 'queue');
        if (p.manager === 'dependent') queue.append(el('div', 'muted', 'queue ' + q.name));
        for (const i of q.heads.flat()) queue.append(item(i, s.now));
        col.append(queue);
      }
      root.append(col);
    }
    const recent = $('gate-recent');
    recent.textContent = '';
    const head = recent.createTHead().insertRow();
    for (const h of ['Change', 'Project', 'Pipeline', 'Result', 'Reported']) head.append(el('th', null, h));
    const body = recent.createTBody();
    for (const r of s.recent) {
      const tr = body.insertRow();
      const c = tr.insertCell(); c.append(link(r.url, r.id));
      tr.insertCell().textContent = r.project;
      tr.insertCell().textContent = r.pipeline;
      const res = tr.insertCell(); res.append(el('span', 'badge result-' + String(r.result).toLowerCase().replace(/_/g, '-'), r.result));
      tr.insertCell().textContent = r.reported_at ? new Date(r.reported_at).toLocaleTimeString() : '';
    }
    if (!s.recent.length) { const td = body.insertRow().insertCell(); td.colSpan = 5; td.className = 'muted'; td.textContent = 'nothing reported yet'; }
    $('gate-events').textContent = s.trigger_event_queue.length + ' event(s) waiting';
  }

  async function refresh() {
    try {
      const res = await fetch('/gate/status', { headers: { accept: 'application/json' } });
      if (res.status === 404) return;
      if (!res.ok) throw new Error('/gate/status: ' + res.status);
      render(await res.json());
      $('gate').hidden = false;
      $('gate-error').hidden = true;
      document.body.dataset.gateLoaded = 'true';
    } catch (err) {
      $('gate-error').textContent = String(err.message || err);
      $('gate-error').hidden = false;
    }
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
