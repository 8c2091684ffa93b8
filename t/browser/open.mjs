// What every browser test starts with: Debian's headless Chromium, and a
// page logged in as an admin (Basic credentials sent by the context) that
// collects the page's JavaScript errors into @errors.
import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync'],
  });
}

export async function adminPage(browser, username, password, viewport, errors) {
  const context = await browser.newContext({
    httpCredentials: { username, password },
    viewport,
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(String(err)));
  return { context, page };
}
