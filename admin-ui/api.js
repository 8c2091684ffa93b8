// mod_polycom console: the one way it talks to the server, the admin API
// beside it ("./phones", "./stats"...), and small DOM helpers.
'use strict';

// Every request says it comes from this console: the server refuses a
// browser's change without X-Requested-With or from another origin, and
// another origin cannot add the header without a preflight nobody grants.
async function api(path, options = {}) {
  const headers = { 'X-Requested-With': 'polycom-console' };
  const init = { method: options.method || 'GET', headers,
                 credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) {
    headers['Content-Type'] = options.type || 'application/json';
    init.body = headers['Content-Type'] === 'application/json'
      ? JSON.stringify(options.body) : options.body;
  }
  const res = await fetch(path, init);
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    data = type.includes('json') ? await res.json() : await res.text();
  }
  if (!res.ok) {
    const err = new Error(data && data.detail ? data.detail
                                              : `${path}: HTTP ${res.status}`);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key === 'class') {
      node.className = value;
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key.startsWith('on')) {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? '' : value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

function cell(row, text, className) {
  const td = el('td', { class: className });
  if (text instanceof Node) {
    td.append(text);
  } else {
    td.textContent = text === null || text === undefined ? '' : String(text);
  }
  row.appendChild(td);
  return td;
}

function notice(text, isError) {
  const p = document.getElementById('notice');
  p.textContent = text;
  p.className = isError ? 'error' : 'ok';
  p.hidden = !text;
}

function ago(iso) {
  if (!iso) {
    return 'never';
  }
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 90) {
    return 'just now';
  }
  if (seconds < 5400) {
    return `${Math.round(seconds / 60)} min ago`;
  }
  if (seconds < 129600) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  return `${Math.round(seconds / 86400)} days ago`;
}

// Asks before a change: resolves true when the admin confirms.
function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'),
                            { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    document.getElementById('confirm-ok').focus();
  });
}

// The API's validation messages begin with the field they are about
// ("model must be ...", "lines must be ..."): shown next to that field.
function showFieldError(prefix, detail, fields, fallback) {
  for (const field of fields) {
    const span = document.getElementById(`${prefix}${field}`);
    if (span) {
      span.textContent = '';
    }
  }
  const fallbackNode = document.getElementById(fallback);
  fallbackNode.textContent = '';
  if (!detail) {
    return;
  }
  const word = detail.split(/[ "]/).find((w) => w) || '';
  let field = fields.find((f) => word === f
                          || detail.startsWith(`${f} `)
                          || detail.startsWith(`unknown field "${f}`));
  if (!field && /^(reg\.|a parameter|parameter|line)/.test(detail)) {
    field = fields.includes('params') ? 'params' : undefined;
  }
  if (!field && /^line|^lines/.test(detail)) {
    field = 'lines';
  }
  const span = field && document.getElementById(`${prefix}${field}`);
  (span || fallbackNode).textContent = detail;
  const input = span && span.parentNode.querySelector('input');
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', span.id);
    input.focus();
  }
}

// A parameter's validation message ("\"x y\" is not a valid parameter
// name", "the value of x must be ...", "x is given twice") beside that
// parameter's row of @a container, its input marked invalid: true when
// the message names a parameter there.
function showParamError(container, detail) {
  for (const old of container.querySelectorAll('.param .error')) {
    old.remove();
  }
  for (const input of container.querySelectorAll('.param input')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
  const rows = [...container.querySelectorAll('.param')];
  const row = rows.find((r) => {
    const name = r.querySelector('.p-name').value.trim();
    return name && (detail.startsWith(`"${name}" `) || detail.startsWith(`${name} `)
                    || detail.startsWith(`the value of ${name} `));
  });
  if (!row) {
    return false;
  }
  const id = `${container.id}-error`;
  const input = row.querySelector(detail.startsWith('"') ? '.p-name' : '.p-value');
  row.append(el('span', { class: 'error', id, role: 'alert' }, detail));
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', id);
  input.focus();
  return true;
}
