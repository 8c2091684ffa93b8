// mod_polycom dashboard: plain JavaScript over the admin API, served from
// the admin location itself (so the API is at "./phones", "./checkins"...).
'use strict';

const api = (path) => fetch(path, { credentials: 'same-origin' })
  .then((res) => {
    if (!res.ok) {
      throw new Error(`${path}: HTTP ${res.status}`);
    }
    const type = res.headers.get('Content-Type') || '';
    return type.includes('json') ? res.json() : res.text();
  });

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (className) {
    td.className = className;
  }
  row.appendChild(td);
  return td;
}

function staleAfterSeconds() {
  return Number(document.getElementById('stale-after').value);
}

function isStale(phone) {
  const last = phone.last_checkin;
  if (!last || !last.time_us) {
    return true;
  }
  return Date.now() * 1000 - last.time_us > staleAfterSeconds() * 1e6;
}

function configState(phone) {
  if (phone.up_to_date === true) {
    return ['up to date', 'ok'];
  }
  if (phone.up_to_date === false) {
    return ['changed since last fetch', 'outdated'];
  }
  return ['never fetched', ''];
}

async function showPhone(mac) {
  const detail = document.getElementById('detail');
  document.getElementById('detail-mac').textContent = mac;
  detail.hidden = false;
  const body = document.querySelector('#checkins tbody');
  body.replaceChildren();
  const history = await api(`checkins?mac=${mac}&limit=20`);
  for (const c of history.checkins) {
    const row = document.createElement('tr');
    cell(row, c.time);
    cell(row, c.method);
    cell(row, c.file);
    cell(row, c.status);
    cell(row, c.ip);
    cell(row, c.firmware);
    body.appendChild(row);
  }
  const preview = document.getElementById('preview');
  try {
    preview.textContent = await api(`preview/${mac}/${mac}-settings.cfg`);
  } catch (err) {
    preview.textContent = `No configuration: ${err.message}`;
  }
}

async function loadPhones() {
  const list = await api('phones?limit=1000');
  const body = document.querySelector('#phones tbody');
  body.replaceChildren();
  let stale = 0;
  for (const phone of list.phones) {
    const row = document.createElement('tr');
    row.dataset.mac = phone.mac;
    const last = phone.last_checkin;
    cell(row, phone.label);
    cell(row, phone.mac, 'mac');
    cell(row, phone.model);
    cell(row, last ? last.firmware : '');
    cell(row, phone.site);
    cell(row, last ? last.time : 'never', 'seen');
    const [text, className] = configState(phone);
    cell(row, text, className);
    if (isStale(phone)) {
      row.classList.add('stale');
      stale += 1;
    }
    row.addEventListener('click', () => showPhone(phone.mac));
    body.appendChild(row);
  }
  document.getElementById('summary').textContent =
    `${list.total} phones, ${stale} stale`;
}

async function loadDiscovered() {
  const list = await api('discovered?limit=100');
  const body = document.querySelector('#discovered tbody');
  body.replaceChildren();
  for (const d of list.discovered) {
    const row = document.createElement('tr');
    cell(row, d.mac, 'mac');
    cell(row, d.model);
    cell(row, d.firmware);
    cell(row, d.ip);
    cell(row, d.last_seen);
    cell(row, d.requests);
    body.appendChild(row);
  }
}

async function load() {
  try {
    await Promise.all([loadPhones(), loadDiscovered()]);
    document.body.dataset.loaded = 'true';
  } catch (err) {
    document.getElementById('summary').textContent =
      `Cannot load the fleet: ${err.message}`;
    document.body.dataset.loaded = 'error';
  }
}

document.getElementById('stale-after').addEventListener('change', load);
load();
