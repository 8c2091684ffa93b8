// mod_polycom console: one phone (its settings, lines, parameters,
// credentials, uploads, check-ins, actions), the layers, and the import.
'use strict';

const PHONE_FIELDS = ['mac', 'model', 'site', 'label', 'sip_address', 'enabled',
                      'lines', 'params'];
const LINE_KEYS = ['user', 'password', 'display_name', 'label', 'server'];
const phoneView = { mac: null, phone: null, revealed: false };

function paramRow(container, name = '', value = '', masked = false) {
  const row = el('div', { class: 'param' });
  const n = container.children.length + 1;
  const nameInput = el('input', { class: 'p-name', value: name,
                                  'aria-label': `Parameter ${n} name` });
  const valueInput = el('input', { class: 'p-value', value,
                                   type: masked ? 'password' : 'text',
                                   'aria-label': `Parameter ${n} value` });
  row.append(nameInput, valueInput,
             el('button', { type: 'button', 'aria-label': `Remove parameter ${n}`,
                            onclick: () => row.remove() }, '×'));
  container.append(row);
  return row;
}

function paramsFrom(container) {
  const params = {};
  for (const row of container.querySelectorAll('.param')) {
    const name = row.querySelector('.p-name').value.trim();
    if (name) {
      params[name] = row.querySelector('.p-value').value;
    }
  }
  return params;
}

function fillParams(container, params) {
  container.replaceChildren();
  for (const [name, value] of Object.entries(params || {})) {
    paramRow(container, name, value, value === '********');
  }
}

function lineRow(line = {}) {
  const body = document.querySelector('#lines tbody');
  const n = body.children.length + 1;
  const row = el('tr');
  cell(row, n);
  for (const key of LINE_KEYS) {
    const input = el('input', { 'data-key': key, value: line[key] || '',
                                'aria-label': `Line ${n} ${key.replace('_', ' ')}`,
                                type: key === 'password' && line[key] === '********'
                                  ? 'password' : 'text', size: 10 });
    cell(row, input);
  }
  cell(row, el('button', { type: 'button', 'aria-label': `Remove line ${n}`,
                           onclick: () => row.remove() }, '×'));
  body.append(row);
}

function phoneDocument() {
  const lines = [];
  for (const row of document.querySelectorAll('#lines tbody tr')) {
    const line = {};
    for (const input of row.querySelectorAll('input[data-key]')) {
      if (input.value !== '') {
        line[input.dataset.key] = input.value;
      }
    }
    lines.push(line);
  }
  return {
    mac: document.getElementById('f-mac').value.trim().toLowerCase().replace(/[:-]/g, ''),
    model: document.getElementById('f-model').value.trim(),
    site: document.getElementById('f-site').value.trim(),
    label: document.getElementById('f-label').value,
    sip_address: document.getElementById('f-sip').value.trim(),
    enabled: document.getElementById('f-enabled').checked,
    lines,
    params: paramsFrom(document.getElementById('phone-params')),
  };
}

function fillForm(phone) {
  document.getElementById('f-mac').value = phone.mac || '';
  document.getElementById('f-mac').readOnly = Boolean(phoneView.mac);
  document.getElementById('f-model').value = phone.model || '';
  document.getElementById('f-site').value = phone.site || '';
  document.getElementById('f-label').value = phone.label || '';
  document.getElementById('f-sip').value = phone.sip_address || '';
  document.getElementById('f-enabled').checked = phone.enabled !== false;
  document.querySelector('#lines tbody').replaceChildren();
  for (const line of phone.lines || []) {
    lineRow(line);
  }
  fillParams(document.getElementById('phone-params'), phone.params);
  for (const input of document.querySelectorAll('#phone-form [aria-invalid]')) {
    input.removeAttribute('aria-invalid');
  }
  showFieldError('e-', '', PHONE_FIELDS, 'e-form');
}

function fact(label, value) {
  return el('div', {}, el('dt', {}, label), el('dd', {}, value));
}

function renderState(phone) {
  const box = document.getElementById('phone-state');
  const last = phone.last_checkin;
  const move = phone.reprovision;
  const dl = el('dl', {},
    fact('Last seen', last ? `${ago(last.time)} (${last.time}) from ${last.ip}` : 'never'),
    fact('Firmware', last ? last.firmware : '—'),
    fact('Config', configState(phone)[0]),
    fact('Move', move ? `${move.state} → ${move.server}` : 'none'));
  box.replaceChildren(dl);
  document.querySelector('[data-action="toggle"]').textContent =
    phone.enabled ? 'Disable' : 'Enable';
  document.querySelector('[data-action="unmove"]').hidden = !move;
}

async function loadCheckins(mac) {
  const body = document.querySelector('#checkins tbody');
  body.replaceChildren();
  const history = await api(`checkins?mac=${mac}&limit=20`);
  for (const c of history.checkins) {
    const row = el('tr');
    cell(row, c.time);
    cell(row, c.method);
    cell(row, c.file);
    cell(row, c.status);
    cell(row, c.ip);
    cell(row, c.firmware);
    body.appendChild(row);
  }
}

// The preview is the file as the phone gets it, secrets and all: they are
// masked on screen (as the API masks them elsewhere) until revealed.
const SECRET_ATTR = /([\w.]*(?:[Pp]assword|[Ss]ecret|privateKey|[Pp]assphrase|auth\.userId|prov\.user)[\w.]*)(?<!\.set)="[^"]*"/g;
let previewText = '';

function showPreview() {
  document.getElementById('preview').textContent = phoneView.revealed
    ? previewText : previewText.replace(SECRET_ATTR, '$1="********"');
}

async function loadPreview(mac) {
  try {
    previewText = await api(`preview/${mac}/${mac}-settings.cfg`);
  } catch (err) {
    previewText = `No configuration: ${err.message}`;
  }
  showPreview();
}

async function loadCredentials(mac) {
  const body = document.querySelector('#credentials tbody');
  body.replaceChildren();
  const list = await api(`phones/${mac}/credentials`);
  for (const c of list.credentials) {
    const row = el('tr', { dataset: { user: c.username } });
    cell(row, c.username);
    cell(row, c.realm);
    cell(row, c.created);
    const actions = el('span', {},
      el('button', { type: 'button', 'aria-label': `Rotate ${c.username}`,
                     onclick: () => rotateCredential(mac, c) }, 'Rotate'),
      ' ',
      el('button', { type: 'button', class: 'danger',
                     'aria-label': `Delete ${c.username}`,
                     onclick: async () => {
                       if (await confirmAction(`Delete the credential ${c.username}? The phone can no longer log in with it.`)) {
                         await api(`phones/${mac}/credentials/${encodeURIComponent(c.username)}`,
                                   { method: 'DELETE' });
                         await loadCredentials(mac);
                       }
                     } }, 'Delete'));
    cell(row, actions);
    body.append(row);
  }
}

function newPassword() {
  const bytes = new Uint8Array(15);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, 'x');
}

// Rotation as the API describes it: a new credential, then the old one
// goes. The new password is shown once, here, and never again.
async function rotateCredential(mac, old) {
  const username = `${old.username.replace(/-r\d+$/, '')}-r${Date.now() % 100000}`;
  const password = newPassword();
  if (!await confirmAction(`Rotate ${old.username}: a new credential ${username} replaces it. The phone must be given the new password before it can log in again.`)) {
    return;
  }
  await api(`phones/${mac}/credentials`, { method: 'POST',
                                           body: { username, password, realm: old.realm } });
  await api(`phones/${mac}/credentials/${encodeURIComponent(old.username)}`,
            { method: 'DELETE' });
  showOnce(`New credential ${username}, password ${password} (shown once: copy it now).`);
  await loadCredentials(mac);
}

function showOnce(text) {
  const p = document.getElementById('cred-once');
  p.textContent = text;
  p.hidden = false;
}

async function loadUploads(mac) {
  const body = document.querySelector('#uploads tbody');
  body.replaceChildren();
  const list = await api(`uploads/${mac}`);
  for (const u of list.uploads) {
    const row = el('tr');
    cell(row, u.file);
    cell(row, u.size);
    cell(row, u.time);
    cell(row, el('span', {},
      el('button', { type: 'button', 'aria-label': `View ${u.file}`, onclick: async () => {
        const view = document.getElementById('upload-view');
        view.textContent = await api(`uploads/${mac}/${u.file}`);
        view.hidden = false;
      } }, 'View'), ' ',
      el('a', { href: `uploads/${mac}/${u.file}`, download: u.file }, 'Download')));
    body.append(row);
  }
}

// GET phones/{mac}/explain: each setting the phone would get now, with the
// layer it comes from, what it overrides, and the phone's own override files
// that set it too (they win on the phone, after the server's files).
function layerName(o) {
  return o.key ? `${o.layer} ${o.key}` : o.layer;
}

async function loadExplain(mac) {
  const section = document.getElementById('explain');
  section.hidden = true;
  let explain;
  try {
    explain = await api(`phones/${mac}/explain`);
  } catch (err) {
    return;
  }
  const body = section.querySelector('tbody');
  body.replaceChildren();
  for (const p of explain.params || []) {
    const row = el('tr');
    cell(row, p.name);
    cell(row, p.value);
    cell(row, layerName(p));
    cell(row, (p.overrides || []).map((o) => `${layerName(o)}: ${o.value}`).join('; '));
    cell(row, (p.shadowed_by || []).map((o) => `${o.file}: ${o.value}`).join('; '));
    if ((p.shadowed_by || []).length) {
      row.classList.add('shadowed');
    }
    body.append(row);
  }
  document.getElementById('explain-state').textContent = explain.up_to_date
    ? 'The phone has fetched these settings.'
    : 'The phone has not fetched these settings yet (its last fetch differs).';
  section.hidden = false;
}

async function showPhone(mac) {
  phoneView.mac = mac;
  phoneView.revealed = false;
  document.getElementById('detail-mac').textContent = mac || '(new)';
  document.getElementById('phone-actions').hidden = !mac;
  document.getElementById('phone-extra').hidden = !mac;
  document.getElementById('reveal').hidden = !mac;
  document.getElementById('cred-once').hidden = true;
  document.getElementById('secrets').hidden = true;
  document.getElementById('upload-view').hidden = true;
  document.getElementById('phone-state').replaceChildren();
  if (!mac) {
    phoneView.phone = { enabled: true, lines: [], params: {} };
    fillForm(phoneView.phone);
    document.getElementById('f-mac').focus();
    return;
  }
  const phone = await api(`phones/${mac}`);
  phoneView.phone = phone;
  fillForm(phone);
  renderState(phone);
  await Promise.all([loadCheckins(mac), loadPreview(mac), loadCredentials(mac),
                     loadUploads(mac), loadExplain(mac)]);
}

async function savePhone(event) {
  event.preventDefault();
  const doc = phoneDocument();
  if (!doc.mac) {
    showFieldError('e-', 'mac is required', PHONE_FIELDS, 'e-form');
    return;
  }
  try {
    await api(`phones/${doc.mac}`, { method: 'PUT', body: doc });
    notice(`Saved ${doc.mac}`);
    if (phoneView.mac !== doc.mac) {
      location.hash = `#/phone/${doc.mac}`;
    } else {
      await showPhone(doc.mac);
    }
    document.body.dataset.saved = doc.mac;
  } catch (err) {
    showFieldError('e-', err.message, PHONE_FIELDS, 'e-form');
    if (showParamError(document.getElementById('phone-params'), err.message)) {
      document.getElementById('e-params').textContent = '';
      document.getElementById('e-form').textContent = '';
    }
  }
}

async function phoneAction(action) {
  const mac = phoneView.mac;
  const phone = phoneView.phone;
  try {
    if (action === 'resync') {
      await api(`phones/${mac}/resync`, { method: 'POST' });
      notice(`Resync of ${mac} queued`);
    } else if (action === 'toggle') {
      const verb = phone.enabled ? 'Disable' : 'Enable';
      if (!await confirmAction(`${verb} ${mac}? This touches 1 phone.`)) {
        return;
      }
      await api(`phones/${mac}`, { method: 'PUT', body: { ...phone, enabled: !phone.enabled } });
      await showPhone(mac);
    } else if (action === 'delete') {
      if (!await confirmAction(`Delete ${mac} and its own parameters? Its check-ins and uploads stay.`)) {
        return;
      }
      await api(`phones/${mac}`, { method: 'DELETE' });
      notice(`Deleted ${mac}`);
      location.hash = '#/';
    } else if (action === 'move') {
      const server = document.getElementById('move-server').value.trim();
      if (!await confirmAction(`Move ${mac} to ${server}? This touches 1 phone.`)) {
        return;
      }
      await api(`phones/${mac}/reprovision`, { method: 'POST', body: { server } });
      await showPhone(mac);
    } else if (action === 'unmove') {
      await api(`phones/${mac}/reprovision`, { method: 'DELETE' });
      await showPhone(mac);
    }
  } catch (err) {
    notice(err.message, true);
  }
}

// Secrets are masked; the admin may ask to see them, and the server
// writes that to the audit log.
async function reveal() {
  if (!await confirmAction(`Show the stored secrets of ${phoneView.mac}? The reveal is recorded in the audit log.`)) {
    return;
  }
  try {
    const answer = await api(`phones/${phoneView.mac}/secrets`, { method: 'POST' });
    const list = document.getElementById('secrets');
    list.replaceChildren();
    for (const [name, value] of Object.entries(answer.secrets)) {
      list.append(fact(name, value));
    }
    if (!list.children.length) {
      list.append(el('p', {}, 'This phone has no stored secrets.'));
    }
    list.hidden = false;
    phoneView.revealed = true;
    showPreview();
  } catch (err) {
    notice(err.message, true);
  }
}

// ---- Layers ----------------------------------------------------------

let layerPath = null;

async function openLayer(event) {
  if (event) {
    event.preventDefault();
  }
  const scope = document.getElementById('layer-scope').value;
  const key = document.getElementById('layer-key').value.trim();
  layerPath = scope === 'global' ? 'params/global' : `params/${scope}/${encodeURIComponent(key)}`;
  document.getElementById('e-layer').textContent = '';
  notice('');
  try {
    const layer = await api(layerPath);
    document.getElementById('layer-title').textContent =
      scope === 'global' ? 'Global layer' : `${scope} ${key}`;
    fillParams(document.getElementById('layer-params'), layer.params);
    document.getElementById('layer-form').hidden = false;
  } catch (err) {
    notice(err.message, true);
  }
}

async function saveLayer(event) {
  event.preventDefault();
  try {
    await api(layerPath, { method: 'PUT',
                           body: paramsFrom(document.getElementById('layer-params')) });
    showParamError(document.getElementById('layer-params'), '');
    notice(`Saved ${layerPath}`);
    document.body.dataset.saved = layerPath;
  } catch (err) {
    const shown = showParamError(document.getElementById('layer-params'), err.message);
    document.getElementById('e-layer').textContent = shown ? '' : err.message;
  }
}

// ---- Import ----------------------------------------------------------

async function importBody() {
  const file = document.getElementById('import-file').files[0];
  const text = file ? await file.text() : document.getElementById('import-text').value;
  const json = /^\s*\[/.test(text);
  return { body: text, type: json ? 'application/json' : 'text/csv' };
}

function renderImport(rows) {
  const body = document.querySelector('#import-rows tbody');
  body.replaceChildren();
  for (const r of rows) {
    const row = el('tr', { class: r.error ? 'bad' : '' });
    cell(row, r.row);
    cell(row, r.mac || '');
    cell(row, r.action || (r.error ? 'nothing' : ''));
    cell(row, r.error || '');
    body.append(row);
  }
}

async function runImport(dryRun) {
  const { body, type } = await importBody();
  const result = document.getElementById('import-result');
  const apply = document.getElementById('import-apply');
  try {
    const answer = await api(`import${dryRun ? '?dry_run=1' : ''}`,
                             { method: 'POST', body, type });
    if (dryRun) {
      renderImport(answer.rows);
      result.textContent = `${answer.rows.length} rows: ${answer.created} to create, ${answer.replaced} to replace. Nothing is written until you import.`;
      apply.disabled = false;
    } else {
      result.textContent = `Imported ${answer.imported} phones (${answer.created} created, ${answer.replaced} replaced).`;
      apply.disabled = true;
    }
    document.body.dataset.imported = dryRun ? 'preview' : 'applied';
  } catch (err) {
    renderImport((err.data && err.data.errors) || []);
    result.textContent = `Nothing was imported: ${err.message}`;
    apply.disabled = true;
    document.body.dataset.imported = 'refused';
  }
}

function setupPhone() {
  document.getElementById('phone-form').addEventListener('submit', savePhone);
  document.getElementById('add-line').addEventListener('click', () => lineRow());
  for (const b of document.querySelectorAll('.add-param')) {
    b.addEventListener('click', () =>
      paramRow(document.getElementById(b.dataset.for)).querySelector('input').focus());
  }
  for (const b of document.querySelectorAll('[data-action]')) {
    b.addEventListener('click', () => phoneAction(b.dataset.action));
  }
  document.getElementById('reveal').addEventListener('click', reveal);
  document.getElementById('cred-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = document.getElementById('cred-user').value.trim();
    const password = document.getElementById('cred-password').value;
    document.getElementById('e-cred').textContent = '';
    try {
      await api(`phones/${phoneView.mac}/credentials`, { method: 'POST',
        body: username ? { username, password } : { password } });
      document.getElementById('cred-password').value = '';
      document.getElementById('cred-user').value = '';
      await loadCredentials(phoneView.mac);
    } catch (err) {
      document.getElementById('e-cred').textContent = err.message;
    }
  });
  document.getElementById('layer-pick').addEventListener('submit', openLayer);
  document.getElementById('layer-form').addEventListener('submit', saveLayer);
  document.getElementById('import-preview').addEventListener('click', () => runImport(true));
  document.getElementById('import-form').addEventListener('submit', (event) => {
    event.preventDefault();
    runImport(false);
  });
  for (const id of ['import-file', 'import-text']) {
    document.getElementById(id).addEventListener('input', () => {
      document.getElementById('import-apply').disabled = true;
    });
  }
}
