// Line plots in SVG for the status page: time on x, value on y, one polyline and a dot per point
// for each series. No library: four small plots do not need one, and the page has no build step.
'use strict';

(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const PAD = { left: 36, right: 8, top: 8, bottom: 18 };

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function clock(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  /**
   * Draws `lines` ([{name, color, points: [[ms, value], ...]}]) into `svg` over [from, to].
   * Returns how many points were drawn.
   */
  function drawPlot(svg, lines, from, to) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = svg.clientWidth || 420;
    const height = svg.clientHeight || 170;
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    const w = width - PAD.left - PAD.right;
    const h = height - PAD.top - PAD.bottom;
    let max = 0;
    let count = 0;
    for (const l of lines) for (const p of l.points) { max = Math.max(max, p[1]); count++; }
    max = niceMax(max);
    const x = (t) => PAD.left + ((t - from) / Math.max(1, to - from)) * w;
    const y = (v) => PAD.top + h - (v / max) * h;

    el('line', { class: 'axis', x1: PAD.left, y1: PAD.top + h, x2: PAD.left + w, y2: PAD.top + h }, svg);
    el('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + h }, svg);
    for (const v of [0, max / 2, max]) {
      const t = el('text', { x: PAD.left - 4, y: y(v) + 3, 'text-anchor': 'end' }, svg);
      t.textContent = Number.isInteger(v) || v >= 10 ? String(Math.round(v)) : String(Number(v.toPrecision(2)));
    }
    for (let i = 0; i <= 4; i++) {
      const at = from + ((to - from) * i) / 4;
      const t = el('text', { x: x(at), y: height - 4, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, svg);
      t.textContent = clock(at);
    }
    if (count === 0) {
      const t = el('text', { class: 'empty', x: PAD.left + w / 2, y: PAD.top + h / 2, 'text-anchor': 'middle' }, svg);
      t.textContent = 'no points yet';
    }
    for (const l of lines) {
      if (!l.points.length) continue;
      el('polyline', {
        fill: 'none', stroke: l.color, 'stroke-width': 1.5,
        points: l.points.map((p) => x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1)).join(' '),
      }, svg).appendChild(document.createElementNS(NS, 'title')).textContent = l.name;
      for (const p of l.points) {
        const c = el('circle', { class: 'pt', cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2, fill: l.color }, svg);
        el('title', {}, c).textContent = l.name + ' ' + p[1] + ' at ' + new Date(p[0]).toLocaleTimeString();
      }
    }
    svg.dataset.points = String(count);
    return count;
  }

  /** A legend line under a plot: one coloured mark and name per series. */
  function legend(svg, lines) {
    let div = svg.nextElementSibling;
    if (!div || !div.classList.contains('legend')) {
      div = document.createElement('div');
      div.className = 'legend';
      svg.after(div);
    }
    div.textContent = '';
    for (const l of lines) {
      const s = document.createElement('span');
      const i = document.createElement('i');
      i.style.background = l.color;
      s.append(i, l.name);
      div.append(s);
    }
  }

  window.drawPlot = drawPlot;
  window.plotLegend = legend;
})();
