// mod_polycom console: the pictures, drawn as plain SVG from GET stats.
// Every bar carries data-label and data-count (and a <title>), so what a
// bar says can be read by a screen reader and checked by the tests.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#2f6db5', '#e07b24', '#2e9e5b', '#b5403a', '#7a5bb5',
                 '#8c6d31', '#d45d9b', '#5f6b77', '#17a2b8', '#9aa624'];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function plotOf(id) {
  const plot = document.querySelector(`#${id} .plot`);
  plot.replaceChildren();
  return plot;
}

// Horizontal bars, one per item ({label, count, color?}).
function barChart(id, items, unit) {
  const plot = plotOf(id);
  if (!items.length) {
    plot.append(el('p', { class: 'empty' }, 'Nothing to show'));
    return;
  }
  const max = Math.max(1, ...items.map((i) => i.count));
  const rowH = 22;
  const box = svg('svg', { viewBox: `0 0 320 ${items.length * rowH}`,
                           role: 'img', class: 'bars',
                           'aria-label': items.map((i) =>
                             `${i.label}: ${i.count}`).join(', ') });
  items.forEach((item, n) => {
    const g = svg('g', { class: 'bar', 'data-label': item.label,
                         'data-count': item.count });
    const width = Math.max(item.count ? 2 : 0, (item.count / max) * 170);
    g.append(svg('title', {}, `${item.label}: ${item.count} ${unit}`));
    g.append(svg('text', { x: 0, y: n * rowH + 15, class: 'label' },
                 item.label.length > 16 ? `${item.label.slice(0, 15)}…`
                                         : item.label));
    g.append(svg('rect', { x: 110, y: n * rowH + 4, height: 14, width,
                           fill: item.color || PALETTE[0], rx: 2 }));
    g.append(svg('text', { x: 114 + width, y: n * rowH + 15,
                           class: 'count' }, String(item.count)));
    box.append(g);
  });
  plot.append(box);
}

// Vertical columns over time ({label, count}), a tick every `every`.
function columnChart(id, items, every) {
  const plot = plotOf(id);
  const max = Math.max(1, ...items.map((i) => i.count));
  const w = 320 / items.length;
  const total = items.reduce((sum, i) => sum + i.count, 0);
  const box = svg('svg', { viewBox: '0 0 320 142', role: 'img',
                           class: 'columns',
                           'aria-label': `${total} check-ins` });
  items.forEach((item, n) => {
    const h = (item.count / max) * 100;
    const g = svg('g', { class: 'bar', 'data-label': item.label,
                         'data-count': item.count });
    g.append(svg('title', {}, `${item.label}: ${item.count} check-ins`));
    g.append(svg('rect', { x: n * w + 0.5, y: 117 - h, width: w - 1,
                           height: h, fill: PALETTE[0] }));
    if (n % every === 0) {
      g.append(svg('text', { x: n * w, y: 134, class: 'tick' }, item.tick));
    }
    box.append(g);
  });
  box.append(svg('text', { x: 318, y: 10, class: 'tick max',
                           'text-anchor': 'end' }, `max ${max}`));
  plot.append(box);
}

// One stacked bar per model, a segment per firmware it runs.
function firmwareChart(id, rows) {
  const plot = plotOf(id);
  if (!rows.length) {
    plot.append(el('p', { class: 'empty' }, 'No phones'));
    return;
  }
  const models = [...new Set(rows.map((r) => r.model || '(no model)'))];
  const firmwares = [...new Set(rows.map((r) => r.firmware || 'never seen'))];
  const color = (f) => (f === 'never seen' ? '#c9ced4'
    : PALETTE[firmwares.filter((x) => x !== 'never seen').indexOf(f)
              % PALETTE.length]);
  const totals = {};
  for (const r of rows) {
    const m = r.model || '(no model)';
    totals[m] = (totals[m] || 0) + r.phones;
  }
  const max = Math.max(...Object.values(totals));
  const rowH = 22;
  const box = svg('svg', { viewBox: `0 0 320 ${models.length * rowH}`,
                           role: 'img', class: 'bars',
                           'aria-label': rows.map((r) =>
                             `${r.model} ${r.firmware || 'never seen'}: ${r.phones}`)
                             .join(', ') });
  models.forEach((model, n) => {
    let x = 90;
    box.append(svg('text', { x: 0, y: n * rowH + 15, class: 'label' }, model));
    for (const r of rows.filter((row) => (row.model || '(no model)') === model)) {
      const f = r.firmware || 'never seen';
      const width = (r.phones / max) * 190;
      const g = svg('g', { class: 'bar', 'data-label': `${model} ${f}`,
                           'data-model': model, 'data-firmware': f,
                           'data-count': r.phones });
      g.append(svg('title', {}, `${model}, ${f}: ${r.phones} phones`));
      g.append(svg('rect', { x, y: n * rowH + 4, width, height: 14,
                             fill: color(f) }));
      box.append(g);
      x += width;
    }
    box.append(svg('text', { x: x + 4, y: n * rowH + 15, class: 'count' },
                   String(totals[model])));
  });
  plot.append(box);
  const legend = el('ul', { class: 'legend' });
  for (const f of firmwares) {
    const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = color(f);
    legend.append(el('li', {}, swatch, f));
  }
  plot.append(legend);
}

function pad(n) {
  return String(n).padStart(2, '0');
}

async function loadCharts(staleAfter) {
  const stats = await api(`stats?stale_after=${staleAfter}`);
  firmwareChart('chart-firmware', stats.firmware);
  const s = stats.seen;
  const select = document.getElementById('stale-after');
  const staleText = select.options[select.selectedIndex].textContent;
  barChart('chart-recency', [
    { label: 'last hour', count: s.hour, color: '#2e9e5b' },
    { label: `within ${staleText}`, count: s.fresh, color: '#2f6db5' },
    { label: 'stale', count: s.stale, color: '#e07b24' },
    { label: 'never seen', count: s.never, color: '#b5403a' },
    { label: 'disabled', count: s.disabled, color: '#5f6b77' },
  ], 'phones');
  const hours = stats.checkins_hourly.map((h) => {
    const d = new Date(h.hour);
    return { label: h.hour, tick: `${pad(d.getUTCHours())}h`, count: h.checkins,
             day: h.hour.slice(0, 10) };
  });
  columnChart('chart-day', hours.slice(-24), 6);
  const days = [];
  for (const h of hours) {
    const last = days[days.length - 1];
    if (last && last.label === h.day) {
      last.count += h.count;
    } else {
      days.push({ label: h.day, tick: h.day.slice(5), count: h.count });
    }
  }
  columnChart('chart-week', days, 1);
  barChart('chart-discovered', [{ label: 'all', count: stats.discovered.total,
                                  color: '#7a5bb5' }].concat(
    stats.discovered.by_model.map((d) => ({ label: d.model || '(unknown)',
                                             count: d.macs, color: '#a58fd6' }))),
  'MACs');
  // When the pictures were drawn, from the start of the navigation (the
  // browser tests print it).
  document.body.dataset.chartsAt = performance.now().toFixed(1);
  return stats;
}
