// Open the fleet console three times on a large fleet and report, from
// the start of each navigation, when the first page of the fleet table and
// the pictures were drawn (the console marks both on <body>), as JSON.
// Usage: node scale.mjs <url> <user> <password> <logdir>
import { adminPage, launchChromium } from './open.mjs';

const [url, username, password, logdir] = process.argv.slice(2);
const out = { errors: [], loads: [] };
const browser = await launchChromium();
try {
  const { page } = await adminPage(browser, username, password,
                                            { width: 1280, height: 800 }, out.errors);
  // One load to warm the browser and the server's children (an admin's
  // browser is already running), then five measured.
  for (let i = 0; i < 6; i += 1) {
    // A new navigation each time (not the same document's fragment).
    await page.goto('about:blank');
    await page.goto(url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60000 });
    await page.waitForFunction(() => document.body.dataset.chartsAt
                                     && document.body.dataset.tableAt
                                     && document.body.dataset.countsAt);
    const load = await page.evaluate(() => ({
      tableAt: Number(document.body.dataset.tableAt),
      chartsAt: Number(document.body.dataset.chartsAt),
      countsAt: Number(document.body.dataset.countsAt),
      pageMs: Number(document.body.dataset.pageMs),
      loadedMs: performance.now(),
      total: Number(document.querySelector('#filters button[data-filter=""]').dataset.count),
      rows: document.querySelectorAll('#phones tbody tr').length,
      // Each request: when it started and how long it took.
      requests: performance.getEntriesByType('resource').map((r) =>
        `${r.name.replace(/^.*\/admin\//, '')} at ${r.startTime.toFixed(0)} ms: ${r.duration.toFixed(0)} ms`),
    }));
    if (i > 0) {
      out.loads.push(load);
    }
  }
  await page.screenshot({ path: `${logdir}/console-scale.png`, fullPage: false });
} catch (err) {
  out.errors.push(String(err && err.stack || err));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
