// dist/ (npm run build) on a plain static host: served with no special header at all, the page
// trains on one thread and says why; served cross-origin isolated, or built with
// coi-serviceworker (which adds the headers itself), it trains on threads. Across
// its four builds the page asks for every file in dist/, and for nothing dist/ lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { writeDist } from '../scripts/dist.mjs';
import { startServer } from '../scripts/serve.mjs';
import { root } from '../scripts/toolchain.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.bin': 'application/octet-stream' };

/** The plainest static host: files with a content type, nothing else. */
function plainServer(dir, seen) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    seen.push(path);
    try {
      if (!file.startsWith(dir) || !statSync(file).isFile()) throw new Error('missing');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

/** A link that trains to exactly 20,000 examples and pauses: the same network everywhere. */
const STOP_LINK = '?preset=tied-sigmoid&seed=3&stop=20000';

async function trainAt(url, seen, { reloadsIsolated = false } = {}) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    // Requests the page and its workers make, as the browser sees them (404s included).
    page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
    await page.goto(url);
    if (reloadsIsolated) {
      // coi-serviceworker registers itself, then reloads the page once, isolated.
      const until = Date.now() + 30_000;
      while (!(await page.evaluate(() => self.crossOriginIsolated).catch(() => false))) {
        if (Date.now() > until) throw new Error('the page never became cross-origin isolated');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await page.waitForFunction(() => window.bottleneck?.stats()?.examples_seen > 0, undefined, { timeout: 60_000, polling: 100 });
    const result = await page.evaluate(() => ({ isolated: self.crossOriginIsolated, threads: window.bottleneck.threads(), simd: window.bottleneck.simd(), engine: document.getElementById('engine').textContent }));
    let stopped = null;
    if (url.includes('stop=')) {
      await page.waitForFunction(() => window.bottleneck.stats().paused, undefined, { timeout: 120_000, polling: 100 });
      stopped = await page.evaluate(async () => {
        const inputs = Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
        return {
          examples: window.bottleneck.stats().examples_seen,
          status: document.getElementById('status').textContent,
          outputs: (await window.bottleneck.query({ reconstruct: { inputs } })).outputs,
        };
      });
    }
    return { ...result, stopped, errors, seen };
  } finally {
    await browser.close();
  }
}

test('dist/ trains on a plain static host (one thread, said), isolated (threads), and on the plain host with coi-serviceworker (threads); stop=20000 gives all three the same network; dist/ holds exactly what the page asks for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bottleneck-dist-'));
  try {
    const files = writeDist(root, dir);
    const asked = new Set();
    let [plainStop, isolatedStop, coiStop] = [null, null, null];
    // A plain host: no COOP/COEP, no CSP, no gzip.
    const seenPlain = [];
    const plain = await plainServer(dir, seenPlain);
    try {
      for (const simd of [STOP_LINK, '?simd=simd128']) {
        const r = await trainAt(plain.url + simd, seenPlain);
        if (r.stopped) plainStop = r.stopped;
        assert.equal(r.isolated, false);
        assert.equal(r.threads, 1);
        assert.match(r.engine, /on one thread \(this host does not send the cross-origin isolation headers/);
        assert.deepEqual(r.errors, [], `plain host ${simd}`);
      }
    } finally {
      plain.server.close();
    }
    seenPlain.forEach((p) => asked.add(p === '/' ? 'index.html' : p.slice(1)));
    // The project's own server on the same files: cross-origin isolated, so threads.
    const seenIsolated = [];
    const { server, url } = await startServer({ root: dir, port: 0, read: async (file) => { seenIsolated.push(file); return readFileSync(file); } });
    try {
      for (const simd of [STOP_LINK, '?simd=simd128']) {
        const r = await trainAt(url + simd, seenIsolated);
        if (r.stopped) isolatedStop = r.stopped;
        assert.equal(r.isolated, true);
        assert.ok(r.threads > 1, `threads where isolated: ${r.threads}`);
        assert.deepEqual(r.errors, [], `isolated ${simd}`);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    seenIsolated.forEach((f) => asked.add(f.slice(dir.length + 1).split('\\').join('/')));
    // With coi-serviceworker (npm run build -- --coi), the plain host gets threads too: the
    // service worker adds the isolation headers and the page reloads itself once.
    const coiDir = mkdtempSync(join(tmpdir(), 'bottleneck-dist-coi-'));
    try {
      writeDist(root, coiDir, { coi: true });
      const coi = await plainServer(coiDir, []);
      try {
        const r = await trainAt(coi.url + STOP_LINK, [], { reloadsIsolated: true });
        assert.equal(r.isolated, true);
        assert.ok(r.threads > 1, `threads through coi-serviceworker: ${r.threads}`);
        assert.deepEqual(r.errors, [], 'coi-serviceworker on a plain host');
        coiStop = r.stopped;
      } finally {
        coi.server.close();
      }
    } finally {
      rmSync(coiDir, { recursive: true, force: true });
    }
    // stop=20000: both paused at exactly 20,000 examples, said so, with identical parameters
    // (one thread on the plain host, threads on the isolated one).
    for (const s of [plainStop, isolatedStop, coiStop]) {
      assert.equal(s.examples, 20_000);
      assert.match(s.status, /Paused at 20,000 examples, as asked/);
    }
    assert.deepEqual(isolatedStop.outputs, plainStop.outputs, 'the same network on one thread and on threads');
    assert.deepEqual(coiStop.outputs, plainStop.outputs, 'the same network through coi-serviceworker');
    const unused = files.filter((f) => !asked.has(f));
    assert.deepEqual(unused, [], 'every file in dist/ is asked for by one of the four builds');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
