// mod_polycom console: the fleet view. Search, filters, order and paging
// are the server's (GET phones), so a page costs the same at any fleet
// size; the selection and bulk actions work on a page or on the whole view.
'use strict';

const FILTERS = [
  ['', 'All', 'all'],
  ['stale', 'Stale', 'stale'],
  ['never', 'Never seen', 'never'],
  ['disabled', 'Disabled', 'disabled'],
  ['outdated', 'Not up to date', 'outdated'],
  ['delivered', 'Move delivered', 'delivered'],
  ['confirmed', 'Move confirmed', 'confirmed'],
];

const fleet = {
  view: { q: '', filter: '', sort: 'mac', offset: 0, limit: 50 },
  page: null,
  selected: new Set(),
  wholeView: false,     // "select all phones of this view"
};

// The arguments of GET phones. encodeURIComponent, not URLSearchParams:
// httpd reads "+" in a query as a plus, not as a space.
function viewQuery(view, extra = {}) {
  const v = { ...view, ...extra,
              stale_after: document.getElementById('stale-after').value };
  return ['q', 'filter', 'sort', 'offset', 'limit', 'stale_after']
    .map((key) => `${key}=${encodeURIComponent(v[key])}`).join('&');
}

function configState(phone) {
  if (!phone.enabled) {
    return ['disabled', 'muted'];
  }
  if (phone.up_to_date === true) {
    return ['up to date', 'ok'];
  }
  if (phone.up_to_date === false) {
    return ['changed since last fetch', 'outdated'];
  }
  return ['never fetched', ''];
}

function renderFilters(counts) {
  const box = document.getElementById('filters');
  box.replaceChildren();
  for (const [value, label, key] of FILTERS) {
    const pressed = fleet.view.filter === value;
    box.append(el('button', {
      type: 'button', 'aria-pressed': String(pressed),
      dataset: { filter: value, count: counts[key] },
      onclick: () => {
        fleet.view.filter = value;
        fleet.view.offset = 0;
        go();
      },
    }, `${label} `, el('span', { class: 'count' }, counts[key])));
  }
}

// The whole view's size comes with the counts (null until they arrive).
function renderSelection() {
  const n = fleet.wholeView ? fleet.page.total : fleet.selected.size;
  let text = 'No phone selected';
  if (n === null) {
    text = 'The whole view selected (counting…)';
  } else if (n) {
    text = `${n} phone${n === 1 ? '' : 's'} selected` +
      (fleet.wholeView ? ' (the whole view)' : '');
  }
  document.getElementById('selection').textContent = text;
  for (const b of document.querySelectorAll('[data-bulk]')) {
    b.disabled = n === 0;
  }
}

function renderPhones(list) {
  const body = document.querySelector('#phones tbody');
  body.replaceChildren();
  const staleUs = Number(document.getElementById('stale-after').value) * 1e6;
  for (const phone of list.phones) {
    const last = phone.last_checkin;
    const row = el('tr', { dataset: { mac: phone.mac } });
    const box = el('input', { type: 'checkbox',
                              'aria-label': `Select ${phone.mac}` });
    box.checked = fleet.wholeView || fleet.selected.has(phone.mac);
    box.addEventListener('change', () => {
      fleet.wholeView = false;
      if (box.checked) {
        fleet.selected.add(phone.mac);
      } else {
        fleet.selected.delete(phone.mac);
      }
      renderSelection();
    });
    cell(row, box);
    cell(row, el('a', { href: `#/phone/${phone.mac}` }, phone.mac), 'mac');
    cell(row, phone.label);
    cell(row, phone.site);
    cell(row, phone.model);
    cell(row, last ? last.firmware : '');
    cell(row, last ? last.ip : '');
    const seen = cell(row, last ? ago(last.time) : 'never', 'seen');
    if (last) {
      seen.title = last.time;
    }
    const [text, className] = configState(phone);
    cell(row, text, className);
    if (!last) {
      row.classList.add('never');
    } else if (Date.now() * 1000 - last.time_us > staleUs) {
      row.classList.add('stale');
    }
    if (!phone.enabled) {
      row.classList.add('disabled');
    }
    body.appendChild(row);
  }
  for (const th of document.querySelectorAll('#phones th[data-sort]')) {
    const key = th.dataset.sort;
    const state = fleet.view.sort === key ? 'ascending'
      : fleet.view.sort === `-${key}` ? 'descending' : 'none';
    th.setAttribute('aria-sort', state);
  }
  renderRange(list);
  document.getElementById('prev').disabled = list.offset === 0;
  document.getElementById('next').disabled = !list.more;
  document.getElementById('select-page').checked = false;
}

// "1–50 of 100000": the total comes with the counts, which may arrive
// after the page.
function renderRange(list) {
  const from = list.phones.length ? list.offset + 1 : 0;
  const to = list.offset + list.phones.length;
  document.getElementById('range').textContent =
    `${from}–${to} of ${list.total === null ? '…' : list.total}`;
}

function renderCounts(counts) {
  renderFilters(counts.counts);
  document.getElementById('summary').textContent =
    `${counts.counts.all} phones, ${counts.counts.stale} stale, ` +
    `${counts.counts.never} never seen`;
}

// The page and its counts are two requests, the page first: the counts
// pass over every phone the search finds, the page only over its rows, so
// the table of a large fleet is drawn without waiting for the counts (and
// without sharing the server's CPUs with them). loadPage draws the page
// and answers { counted, current }: the promise of the counts, asked once
// the page is drawn (in an object: an async function's promise would wait
// for it), and whether this load is still the newest. A view changed
// meanwhile makes the older view's answers go unused, and its callers
// leave the page's state (loaded, or an error) to the newer load.
async function loadPage() {
  const started = performance.now();
  const load = (fleet.load || 0) + 1;
  fleet.load = load;
  const query = viewQuery(fleet.view);
  // The counts depend on the search and the filters, not on the page or
  // its order: another page of the same view keeps its total meanwhile.
  const counting = viewQuery(fleet.view, { offset: 0, sort: '', limit: 0 });
  const list = await api(`phones?${query}&counts=0`);
  const current = () => fleet.load === load;
  if (!current()) {
    return { counted: Promise.resolve(), current };
  }
  const fetched = performance.now();
  list.total = fleet.page && fleet.page.counting === counting
    ? fleet.page.total : null;
  list.counting = counting;
  fleet.page = list;
  renderPhones(list);
  renderSelection();
  const shown = performance.now();
  // The page's request and drawing, and when the table was drawn from the
  // start of the navigation (the browser tests print both).
  document.body.dataset.pageMs = (shown - started).toFixed(1);
  document.body.dataset.tableAt = shown.toFixed(1);
  document.body.dataset.fetchMs = (fetched - started).toFixed(1);
  const counted = api(`phones?${query}&counts=only`).then((counts) => {
    if (!current()) {
      return;
    }
    list.total = counts.total;
    renderCounts(counts);
    renderRange(list);
    renderSelection();
    document.body.dataset.countsAt = performance.now().toFixed(1);
  }, (err) => {
    if (current()) {
      throw err;
    }
  });
  return { counted, current };
}

// The page, then its counts: true when this load is still the newest (a
// newer one, started meanwhile, says when the page is loaded).
async function loadPhones() {
  const { counted, current } = await loadPage();
  await counted;
  return current();
}

async function loadDiscovered() {
  const list = await api('discovered?limit=100');
  const body = document.querySelector('#discovered tbody');
  body.replaceChildren();
  for (const d of list.discovered) {
    const row = el('tr', { dataset: { mac: d.mac } });
    cell(row, d.mac, 'mac');
    cell(row, d.model);
    cell(row, d.firmware);
    cell(row, d.ip);
    cell(row, ago(d.last_seen));
    cell(row, d.requests);
    cell(row, el('button', { type: 'button', class: 'adopt',
                             'aria-label': `Adopt ${d.mac}`,
                             onclick: () => adopt(d) }, 'Adopt'));
    body.appendChild(row);
  }
}

// Adopt a discovered MAC: a site and a model, one PUT.
function adopt(d) {
  const dialog = document.getElementById('adopt');
  document.getElementById('adopt-mac').textContent = d.mac;
  document.getElementById('adopt-model').value = d.model || '';
  document.getElementById('adopt-site').value = '';
  document.getElementById('adopt-label').value = '';
  for (const id of ['e-adopt', 'e-adopt-site', 'e-adopt-model']) {
    document.getElementById(id).textContent = '';
  }
  const ok = document.getElementById('adopt-ok');
  ok.onclick = async (event) => {
    event.preventDefault();
    try {
      await api(`phones/${d.mac}`, { method: 'PUT', body: {
        model: document.getElementById('adopt-model').value,
        site: document.getElementById('adopt-site').value,
        label: document.getElementById('adopt-label').value,
      } });
      dialog.close('ok');
      notice(`Adopted ${d.mac}`);
      await Promise.all([loadPhones(), loadDiscovered(), refreshCharts()]);
    } catch (err) {
      showFieldError('e-adopt-', err.message, ['site', 'model'], 'e-adopt');
    }
  };
  dialog.showModal();
  document.getElementById('adopt-site').focus();
}

// What a bulk action works on: the selection, or the whole view (the
// server reads its phones, so a view of 100,000 costs one request).
function bulkSelection() {
  if (!fleet.wholeView) {
    return { macs: [...fleet.selected] };
  }
  const { q, filter } = fleet.view;
  return { view: { q, filter,
                   stale_after: document.getElementById('stale-after').value } };
}

// Each bulk action: its words and what POST phones/bulk needs beside the
// phones.
const BULK = {
  resync: { verb: 'Resync', body: () => ({}) },
  enable: { verb: 'Enable', body: () => ({}) },
  disable: { verb: 'Disable', body: () => ({}) },
  site: { verb: 'Change site to', field: 'bulk-site',
          body: (value) => ({ site: value }) },
  move: { verb: 'Move to', field: 'bulk-server',
          body: (value) => ({ target: { server: value } }) },
};

// One bulk action, all or nothing: the server counts the phones first
// (a dry run), the admin confirms that number, then one request does it.
async function bulk(action) {
  const spec = BULK[action];
  const value = spec.field ? document.getElementById(spec.field).value.trim() : '';
  const body = { action, ...spec.body(value), ...bulkSelection() };
  const count = await api('phones/bulk?dry_run=1', { method: 'POST', body });
  const n = count.phones;
  const what = `${spec.verb}${value ? ` ${value}` : ''}`;
  if (!n) {
    notice(`${what}: no phone to touch.`, true);
    return;
  }
  const unchanged = n - count.changed;
  if (!await confirmAction(`${what}: this touches ${n} phone${n === 1 ? '' : 's'}.` +
                           (unchanged ? ` ${unchanged} already so.` : ''))) {
    return;
  }
  const done = await api('phones/bulk', { method: 'POST', body });
  const skipped = done.skipped || [];
  notice(`${what}: ${done.changed} of ${done.phones} phones done` +
         (skipped.length ? `; not sent: ${skipped.slice(0, 5).map((s) => `${s.mac}: ${s.error}`).join('; ')}` : ''),
         skipped.length > 0);
  document.body.dataset.bulkDone = String(done.changed);
  fleet.selected.clear();
  fleet.wholeView = false;
  await Promise.all([loadPhones(), refreshCharts()]);
}

function setupFleet() {
  document.getElementById('search').addEventListener('submit', (event) => {
    event.preventDefault();
    let q = document.getElementById('q').value.trim();
    // A MAC as printed on a label (00:04:f2:... or 00-04-f2-...).
    if (/^([0-9a-f]{2}[:-]){1,5}[0-9a-f]{0,2}$/i.test(q)) {
      q = q.replace(/[:-]/g, '');
    }
    fleet.view.q = q;
    fleet.view.limit = Number(document.getElementById('page-size').value);
    fleet.view.offset = 0;
    go();
  });
  document.getElementById('stale-after').addEventListener('change', () => go());
  document.getElementById('prev').addEventListener('click', () => {
    fleet.view.offset = Math.max(0, fleet.view.offset - fleet.view.limit);
    go();
  });
  document.getElementById('next').addEventListener('click', () => {
    fleet.view.offset += fleet.view.limit;
    go();
  });
  for (const th of document.querySelectorAll('#phones th[data-sort]')) {
    const key = th.dataset.sort;
    const button = el('button', { type: 'button', class: 'sort' }, th.textContent);
    button.addEventListener('click', () => {
      fleet.view.sort = fleet.view.sort === key ? `-${key}` : key;
      fleet.view.offset = 0;
      go();
    });
    th.replaceChildren(button);
  }
  document.getElementById('select-page').addEventListener('change', (event) => {
    fleet.wholeView = false;
    for (const p of fleet.page.phones) {
      if (event.target.checked) {
        fleet.selected.add(p.mac);
      } else {
        fleet.selected.delete(p.mac);
      }
    }
    for (const box of document.querySelectorAll('#phones tbody input')) {
      box.checked = event.target.checked;
    }
    renderSelection();
  });
  document.getElementById('select-filter').addEventListener('click', () => {
    fleet.wholeView = true;
    for (const box of document.querySelectorAll('#phones tbody input')) {
      box.checked = true;
    }
    renderSelection();
  });
  for (const b of document.querySelectorAll('[data-bulk]')) {
    b.addEventListener('click', () => bulk(b.dataset.bulk).catch((err) => {
      notice(err.message, true);
      document.body.dataset.bulkError = err.message;
    }));
  }
}
