// Drive the fleet console in Debian's headless Chromium through each flow
// an admin uses, and report what the pages showed as JSON on stdout.
// Usage: node console.mjs <url> <user> <password> <logdir> <plan.json>
// Each step saves <logdir>/console-<step>.png.
import { readFileSync } from 'node:fs';
import { adminPage, launchChromium } from './open.mjs';

const [url, username, password, logdir, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const out = { errors: [], steps: {} };
const browser = await launchChromium();

async function loaded(page) {
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 20000 });
}

async function shot(page, name) {
  await page.screenshot({ path: `${logdir}/console-${name}.png`, fullPage: true });
}

async function step(name, fn) {
  try {
    out.steps[name] = await fn();
  } catch (err) {
    out.steps[name] = { failed: String(err && err.stack || err) };
  }
}

try {
  const { page } = await adminPage(browser, username, password,
                                            { width: 1280, height: 800 }, out.errors);
  // Answer each confirmation by what the step wants; record its text.
  let confirmations = [];

  await step('search', async () => {
    const started = Date.now();
    await page.goto(url);
    await loaded(page);
    const firstLoadMs = Date.now() - started;
    const pageMs = Number(await page.getAttribute('body', 'data-page-ms'));
    const range = await page.textContent('#range');
    const counts = await page.$$eval('#filters button', (bs) =>
      Object.fromEntries(bs.map((b) => [b.dataset.filter || 'all', Number(b.dataset.count)])));
    await page.fill('#q', plan.search);
    await page.selectOption('#page-size', '25');
    await page.click('#search button[type="submit"]');
    await page.waitForFunction((q) => document.body.dataset.loaded === 'true'
      && [...document.querySelectorAll('#phones tbody tr')].length > 0, plan.search);
    await page.waitForFunction(() => document.body.dataset.loaded === 'true');
    const searchMs = Number(await page.getAttribute('body', 'data-page-ms'));
    const found = await page.$$eval('#phones tbody tr', (trs) => trs.map((tr) => tr.dataset.mac));
    const foundRange = await page.textContent('#range');
    await page.click('#next');
    await page.waitForFunction((r) => document.getElementById('range').textContent !== r, foundRange);
    const nextRange = await page.textContent('#range');
    const next = await page.$$eval('#phones tbody tr', (trs) => trs.map((tr) => tr.dataset.mac));
    await page.click('#filters button[data-filter="stale"]');
    await page.waitForFunction(() => document.querySelector('#filters button[data-filter="stale"]').getAttribute('aria-pressed') === 'true'
      && document.body.dataset.loaded === 'true');
    const staleRows = await page.$$eval('#phones tbody tr', (trs) => trs.map((tr) => ({
      mac: tr.dataset.mac, stale: tr.classList.contains('stale') })));
    const staleRange = await page.textContent('#range');
    await page.click('#phones th[data-sort="seen"] button');
    await page.waitForFunction(() => document.querySelector('#phones th[data-sort="seen"]').getAttribute('aria-sort') === 'ascending');
    await shot(page, 'search');
    return { firstLoadMs, pageMs, searchMs, range, counts, found, foundRange,
             next, nextRange, staleRows, staleRange };
  });

  await step('charts', async () => {
    await page.goto(`${url}#/`);
    await page.fill('#q', '');
    await page.click('#search button[type="submit"]');
    await loaded(page);
    await page.waitForSelector('#chart-week .bar');
    const bars = await page.$$eval('.chart', (charts) => Object.fromEntries(charts.map((c) => [
      c.id, [...c.querySelectorAll('.bar')].map((b) => ({
        label: b.dataset.label, count: Number(b.dataset.count) }))])));
    await page.locator('#charts').screenshot({ path: `${logdir}/console-charts.png` });
    return { bars };
  });

  await step('edit', async () => {
    await page.goto(`${url}#/new`);
    await loaded(page);
    await page.fill('#f-mac', plan.newMac);
    await page.fill('#f-model', 'VVX 411!');
    await page.fill('#f-site', 'lab');
    await page.fill('#f-label', 'Console test');
    await page.click('#save-phone');
    await page.waitForFunction(() => document.getElementById('e-model').textContent !== '');
    const modelError = await page.textContent('#e-model');
    const invalid = await page.getAttribute('#f-model', 'aria-invalid');
    await shot(page, 'edit-error');
    await page.fill('#f-model', 'VVX411');
    await page.click('#add-line');
    await page.fill('#lines tbody tr:last-child input[data-key="user"]', '2001');
    await page.fill('#lines tbody tr:last-child input[data-key="password"]', 'line-secret-2001');
    await page.click('.add-param[data-for="phone-params"]');
    await page.fill('#phone-params .param:last-child .p-name', 'up.backlight.idleIntensity');
    await page.fill('#phone-params .param:last-child .p-value', '2');
    await page.click('#save-phone');
    await page.waitForFunction((mac) => location.hash === `#/phone/${mac}`
      && document.getElementById('preview').textContent.includes('polycomConfig'), plan.newMac);
    await loaded(page);
    const firstPreview = await page.textContent('#preview');
    await page.fill('#f-label', 'Console test, edited');
    await page.fill('#phone-params .param:last-child .p-value', '1');
    await page.click('#save-phone');
    await page.waitForFunction(() => document.getElementById('notice').textContent.startsWith('Saved'));
    await page.waitForFunction((old) => document.getElementById('preview').textContent !== old, firstPreview);
    const secondPreview = await page.textContent('#preview');
    const passwordField = await page.inputValue('#lines tbody tr:last-child input[data-key="password"]');
    await shot(page, 'edit');
    // Secrets: masked until revealed, and the reveal asks first.
    await page.click('#reveal');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('#secrets:not([hidden])');
    const revealed = await page.textContent('#secrets');
    const revealedPreview = await page.textContent('#preview');
    // A credential: added, never shown again, then rotated.
    await page.fill('#cred-user', 'c99901');
    await page.fill('#cred-password', 'cred-password-1');
    await page.click('#cred-form button[type="submit"]');
    await page.waitForSelector('#credentials tr[data-user="c99901"]');
    const afterAdd = { field: await page.inputValue('#cred-password'),
                       shown: (await page.textContent('main')).includes('cred-password-1') };
    await page.click('#credentials tr[data-user="c99901"] button:has-text("Rotate")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('#cred-once:not([hidden])');
    await page.waitForFunction(() => !document.querySelector('#credentials tr[data-user="c99901"]'));
    const once = await page.textContent('#cred-once');
    const users = await page.$$eval('#credentials tbody tr', (trs) => trs.map((tr) => tr.dataset.user));
    await shot(page, 'credentials');
    return { modelError, invalid, firstPreview, secondPreview, passwordField,
             revealed, revealedPreview, afterAdd, once, users };
  });

  await step('adopt', async () => {
    await page.goto(`${url}#/`);
    await loaded(page);
    await page.click(`#discovered tr[data-mac="${plan.discovered}"] button.adopt`);
    await page.fill('#adopt-site', 'branch');
    await page.fill('#adopt-model', 'Trio8800');
    await page.fill('#adopt-label', 'Adopted in the console');
    await shot(page, 'adopt');
    await page.click('#adopt-ok');
    await page.waitForFunction((mac) => !document.querySelector(`#discovered tr[data-mac="${mac}"]`)
      && document.getElementById('notice').textContent.includes(mac), plan.discovered);
    return { adopted: true };
  });

  await step('bulk', async () => {
    await page.goto(`${url}#/`);
    await loaded(page);
    await page.click('#filters button[data-filter=""]');
    await loaded(page);
    await page.fill('#q', plan.bulkSearch);
    await page.click('#search button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.loaded === 'true'
      && document.querySelectorAll('#phones tbody tr').length > 0);
    for (const mac of plan.bulk) {
      await page.check(`#phones tr[data-mac="${mac}"] input[type="checkbox"]`);
    }
    const selection = await page.textContent('#selection');
    await page.click('button[data-bulk="resync"]');
    await page.waitForSelector('#confirm[open]');
    const question = await page.textContent('#confirm-text');
    await shot(page, 'bulk');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.body.dataset.bulkDone !== undefined);
    return { selection, question, done: Number(await page.getAttribute('body', 'data-bulk-done')),
             notice: await page.textContent('#notice') };
  });

  // Parameters at every layer: a bad name is refused with the API's
  // message beside its row, then the fixed one is saved.
  await step('layers', async () => {
    const layers = {};
    for (const [scope, key] of [['global', ''], ['site', 'lab'], ['model', 'VVX411']]) {
      await page.goto(`${url}#/layers`);
      await loaded(page);
      await page.selectOption('#layer-scope', scope);
      await page.fill('#layer-key', key);
      await page.click('#layer-pick button[type="submit"]');
      await page.waitForSelector('#layer-form:not([hidden])');
      await page.click('.add-param[data-for="layer-params"]');
      await page.fill('#layer-params .param:last-child .p-name', `console test ${scope}`);
      await page.fill('#layer-params .param:last-child .p-value', `${scope}-value`);
      await page.click('#layer-form button[type="submit"]');
      await page.waitForSelector('#layer-params .param .error');
      const error = await page.textContent('#layer-params .param:last-child .error');
      const invalid = await page.getAttribute('#layer-params .param:last-child .p-name', 'aria-invalid');
      if (scope === 'site') {
        await shot(page, 'layer-error');
      }
      await page.fill('#layer-params .param:last-child .p-name', `console.test.${scope}`);
      await page.evaluate(() => delete document.body.dataset.saved);
      await page.click('#layer-form button[type="submit"]');
      await page.waitForFunction(() => document.body.dataset.saved);
      layers[scope] = { error, invalid, cleared: await page.$$eval('#layer-params .error', (e) => e.length) };
    }
    // The phone's own layer, on its page.
    await page.goto(`${url}#/phone/${plan.newMac}`);
    await loaded(page);
    await page.click('.add-param[data-for="phone-params"]');
    await page.fill('#phone-params .param:last-child .p-name', 'console test phone');
    await page.fill('#phone-params .param:last-child .p-value', 'phone-value');
    await page.click('#save-phone');
    await page.waitForSelector('#phone-params .param .error');
    layers.phone = {
      error: await page.textContent('#phone-params .param:last-child .error'),
      invalid: await page.getAttribute('#phone-params .param:last-child .p-name', 'aria-invalid'),
    };
    await page.fill('#phone-params .param:last-child .p-name', 'console.test.phone');
    await page.evaluate(() => delete document.body.dataset.saved);
    await page.click('#save-phone');
    await page.waitForFunction(() => document.body.dataset.saved);
    await loaded(page);
    await page.waitForFunction(() => document.getElementById('preview').textContent.includes('console.test.phone'));
    layers.preview = await page.textContent('#preview');
    await shot(page, 'layers');
    return layers;
  });

  // Bulk change of site on the whole view, and a move of two phones: the
  // confirmation says how many phones, from the server's count.
  await step('bulk_site', async () => {
    await page.goto(`${url}#/`);
    await loaded(page);
    await page.fill('#q', plan.bulkSearch);
    await page.click('#search button[type="submit"]');
    await page.waitForFunction((r) => document.body.dataset.loaded === 'true'
      && document.getElementById('range').textContent.endsWith(r), ` of ${plan.bulkSiteCount}`);
    await page.click('#select-filter');
    const selection = await page.textContent('#selection');
    await page.fill('#bulk-site', plan.bulkSite);
    await page.evaluate(() => delete document.body.dataset.bulkDone);
    await page.click('button[data-bulk="site"]');
    await page.waitForSelector('#confirm[open]');
    const question = await page.textContent('#confirm-text');
    await shot(page, 'bulk-site');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.body.dataset.bulkDone !== undefined);
    return { selection, question, done: Number(await page.getAttribute('body', 'data-bulk-done')),
             notice: await page.textContent('#notice') };
  });

  await step('bulk_move', async () => {
    await page.goto(`${url}#/`);
    await loaded(page);
    await page.fill('#q', plan.bulkSearch);
    await page.click('#search button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.loaded === 'true'
      && document.querySelectorAll('#phones tbody tr').length > 0);
    for (const mac of plan.moved) {
      await page.check(`#phones tr[data-mac="${mac}"] input[type="checkbox"]`);
    }
    await page.fill('#bulk-server', plan.moveServer);
    await page.evaluate(() => delete document.body.dataset.bulkDone);
    await page.click('button[data-bulk="move"]');
    await page.waitForSelector('#confirm[open]');
    const question = await page.textContent('#confirm-text');
    await shot(page, 'bulk-move');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.body.dataset.bulkDone !== undefined);
    return { question, done: Number(await page.getAttribute('body', 'data-bulk-done')) };
  });

  // A phone's uploaded log: listed on its page, viewed, downloaded.
  await step('uploads', async () => {
    await page.goto(`${url}#/phone/${plan.uploadMac}`);
    await loaded(page);
    const row = `#uploads tr:has-text("${plan.uploadFile}")`;
    await page.waitForSelector(row);
    await page.click(`${row} button`);
    await page.waitForSelector('#upload-view:not([hidden])');
    const viewed = await page.textContent('#upload-view');
    const [download] = await Promise.all([page.waitForEvent('download'),
                                          page.click(`${row} a`)]);
    const path = await download.path();
    const downloaded = readFileSync(path, 'utf8');
    await shot(page, 'uploads');
    return { viewed, downloaded, name: download.suggestedFilename() };
  });

  // The keyboard alone: Tab to the search box, type, Enter; then Tab to a
  // labelled control (a phone's checkbox) and Space.
  await step('keyboard', async () => {
    await page.goto(`${url}#/`);
    await loaded(page);
    let tabs = 0;
    while (tabs < 40 && await page.evaluate(() => document.activeElement.id) !== 'q') {
      await page.keyboard.press('Tab');
      tabs += 1;
    }
    const searchLabel = await page.evaluate(() => document.activeElement.labels[0].textContent.trim());
    await page.keyboard.type(plan.search);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.dataset.loaded === 'true'
      && document.getElementById('range').textContent.includes(' of 111'));
    const range = await page.textContent('#range');
    let steps = 0;
    while (steps < 60 && !await page.evaluate(() =>
      document.activeElement.matches('#phones tbody input[type="checkbox"]'))) {
      await page.keyboard.press('Tab');
      steps += 1;
    }
    const control = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
    await page.keyboard.press('Space');
    const selection = await page.textContent('#selection');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    await shot(page, 'keyboard');
    return { tabs, searchLabel, range, steps, control, selection, outline };
  });

  await step('import', async () => {
    await page.goto(`${url}#/import`);
    await loaded(page);
    await page.fill('#import-text', plan.csv);
    await page.click('#import-preview');
    await page.waitForFunction(() => document.body.dataset.imported);
    const outcome = await page.getAttribute('body', 'data-imported');
    const rows = await page.$$eval('#import-rows tbody tr', (trs) => trs.map((tr) =>
      [...tr.children].map((td) => td.textContent)));
    const result = await page.textContent('#import-result');
    const applyDisabled = await page.isDisabled('#import-apply');
    await shot(page, 'import');
    return { outcome, rows, result, applyDisabled };
  });

  await step('phone_size', async () => {
    const small = await browser.newContext({ httpCredentials: { username, password },
                                             viewport: { width: 390, height: 844 } });
    const p = await small.newPage();
    await p.goto(url);
    await loaded(p);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth);
    await p.screenshot({ path: `${logdir}/console-phone-size.png` });
    await small.close();
    return { scrollWidth: overflow };
  });

  // Another origin (http://localhost:<port> is not http://127.0.0.1:<port>)
  // tries to change things with the admin's replayed credentials.
  await step('cross_origin', async () => {
    const evil = plan.evilOrigin;
    await page.route(`${evil}/evil.html`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><title>evil</title>
<form id="f" method="POST" action="${plan.api}phones/${plan.victim}/resync"></form>
<script>
window.results = {};
(async () => {
  const put = { model: 'VVX411', site: 'evil', label: 'created by another origin' };
  try {
    await fetch('${plan.api}phones/${plan.evilMac}', { method: 'PUT', credentials: 'include',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'x' },
      body: JSON.stringify(put) });
    results.put = 'sent';
  } catch (e) { results.put = 'blocked: ' + e.message; }
  try {
    const r = await fetch('${plan.api}import', { method: 'POST', mode: 'no-cors',
      credentials: 'include', headers: { 'Content-Type': 'text/plain' },
      body: '[{"mac": "${plan.evilMac}", "site": "evil"}]' });
    results.simple = 'sent:' + r.type;
  } catch (e) { results.simple = 'blocked: ' + e.message; }
  try {
    await fetch('${plan.api}phones/${plan.victim}', { method: 'DELETE', credentials: 'include' });
    results.del = 'sent';
  } catch (e) { results.del = 'blocked: ' + e.message; }
  document.body.dataset.done = 'true';
})();
</script>`,
    }));
    await page.goto(`${evil}/evil.html`);
    // The page is there: its requests now go out as a browser sends them,
    // not through the test's interception.
    await page.unrouteAll();
    await page.waitForSelector('body[data-done]', { state: 'attached', timeout: 15000 });
    const results = await page.evaluate(() => window.results);
    // A form needs no script and no preflight: the browser sends it.
    await Promise.all([page.waitForNavigation(), page.evaluate(() => document.getElementById('f').submit())]);
    const formAnswer = await page.textContent('body');
    await shot(page, 'cross-origin');
    return { results, formAnswer };
  });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
