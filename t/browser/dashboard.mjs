// Open the dashboard in Debian's headless Chromium, as an admin would, and
// report what the page shows as JSON on stdout. Usage:
//   node dashboard.mjs <url> <user> <password> <screenshot.png>
import { adminPage, launchChromium } from './open.mjs';

const [url, username, password, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const errors = [];
  const { page } = await adminPage(browser, username, password,
                                            { width: 1280, height: 900 }, errors);
  await page.goto(url);
  // Until the fleet, the discovered MACs and the pictures are drawn (or
  // failed): data-loaded is "loading" meanwhile, which a bare
  // [data-loaded] matched at once, so a slow server (ASan) read an empty
  // table.
  await page.waitForSelector('body[data-loaded="true"], body[data-loaded="error"]',
                             { timeout: 30000 });
  const rows = await page.$$eval('#phones tbody tr', (trs) => trs.map((tr) => ({
    mac: tr.dataset.mac,
    cells: [...tr.children].map((td) => td.textContent),
    stale: tr.classList.contains('stale'),
    background: getComputedStyle(tr.children[0]).backgroundColor,
  })));
  const discovered = await page.$$eval('#discovered tbody tr',
    (trs) => trs.map((tr) => tr.children[0].textContent));
  const summary = await page.textContent('#summary');
  // Open one phone: its check-ins and its config preview.
  let preview = '';
  let checkins = 0;
  const fresh = rows.find((r) => !r.stale);
  if (fresh) {
    await page.click(`#phones tr[data-mac="${fresh.mac}"] a`);
    await page.waitForFunction(
      () => document.getElementById('preview').textContent.length > 0,
      null, { timeout: 15000 });
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15000 });
    preview = await page.textContent('#preview');
    checkins = await page.$$eval('#checkins tbody tr', (trs) => trs.length);
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({
    loaded: await page.getAttribute('body', 'data-loaded'),
    summary, rows, discovered, preview, checkins, errors,
  }));
} finally {
  await browser.close();
}
