// Shared set-up for the browser tests: the page's own server on a free port and Debian's
// headless chromium driven by playwright-core (never a downloaded browser).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';
import { root } from '../scripts/toolchain.mjs';

export const outputDir = join(root, 'tests', 'output');

/** Open the page at `path` in a fresh browser. `options`: the viewport ({ width, height }),
 * `deviceScaleFactor` (a high-density screen) and `hasTouch` (a phone's touch screen). */
export async function openPage(path = '', { viewport = { width: 1280, height: 900 }, deviceScaleFactor = 1, hasTouch = false } = {}) {
  mkdirSync(outputDir, { recursive: true });
  const { server, url } = await startServer({ root, port: 0 });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  // A context of our own (not browser.newPage's implicit one): axe-core's builder needs it.
  const context = await browser.newContext({ viewport, deviceScaleFactor, hasTouch, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(url + path);
  const close = async () => {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  };
  return { page, url, consoleErrors, close };
}

/** Poll `fn` in the page until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(page, fn, arg, timeoutMs = 10_000) {
  const handle = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 });
  return handle.jsonValue();
}
