// The page's server (scripts/serve.mjs) over real HTTP, without a browser: its security headers
// on every response, 404s, refused path traversal and foreign Host headers, and a 500 that
// never echoes the exception.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startServer, CSP } from '../scripts/serve.mjs';
import { root } from '../scripts/toolchain.mjs';

const EXPECTED = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

let server;
let port;

before(async () => {
  ({ server } = await startServer({ root, port: 0 }));
  port = server.address().port;
});
after(() => new Promise((resolve) => server.close(resolve)));

/** One request with the path sent exactly as written (no URL normalisation on our side). */
function get(path, { host = `127.0.0.1:${port}`, method = 'GET', headers = {}, to = port } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: to, path, method, headers: { host, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertSecurityHeaders(res, what) {
  for (const [name, value] of Object.entries(EXPECTED)) assert.equal(res.headers[name], value, `${name} on ${what}`);
}

test('index.html is served with the security headers', async () => {
  for (const path of ['/', '/index.html']) {
    const res = await get(path);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assertSecurityHeaders(res, path);
    assert.match(res.body.toString(), /<script type="module" src="www\/main.js">/);
  }
});

test('the CSP allows nothing inline that the page uses', async () => {
  const html = (await get('/')).body.toString();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline <script>');
  assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i, 'an inline style or event handler');
});

test('wasm (or, before a build, the page script) is served with its type, gzip and the headers', async () => {
  const wasm = existsSync(join(root, 'www', 'pkg', 'bottleneck_bg.wasm'));
  const path = wasm ? '/www/pkg/bottleneck_bg.wasm' : '/www/main.js';
  const plain = await get(path);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-type'], wasm ? 'application/wasm' : 'text/javascript; charset=utf-8');
  assertSecurityHeaders(plain, path);
  const zipped = await get(path, { headers: { 'accept-encoding': 'gzip, deflate' } });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assertSecurityHeaders(zipped, `${path} (gzip)`);
  assert.deepEqual(gunzipSync(zipped.body), plain.body);
  const head = await get(path, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});

test('a missing file is a 404 with the headers', async () => {
  const res = await get('/www/no-such-file.js');
  assert.equal(res.status, 404);
  assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  assertSecurityHeaders(res, 'a 404');
});

test('path traversal and private files are refused', async () => {
  for (const path of [
    '/../Cargo.toml',
    '/%2e%2e/Cargo.toml',
    '/%2E%2E/Cargo.toml',
    '/www/%2e%2e/%2e%2e/Cargo.toml',
    '/www/..%2f..%2fCargo.toml',
    '/www/%2e%2e%2f%2e%2e%2fCargo.toml',
    '/www/..%5c..%5cCargo.toml',
    '/www/%2e%2e/Cargo.toml',
    '/Cargo.toml',
    '/crate/Cargo.toml',
    '/www/%00/../../Cargo.toml',
  ]) {
    const res = await get(path);
    assert.ok(res.status === 404 || res.status === 400, `${path} answered ${res.status}`);
    assert.doesNotMatch(res.body.toString(), /\[package\]|\[workspace\]/, `${path} leaked Cargo.toml`);
    assertSecurityHeaders(res, path);
  }
  const malformed = await get('/www/%E0%A4%A');
  assert.equal(malformed.status, 400);
});

test('only requests addressed to localhost are served (DNS rebinding)', async () => {
  for (const host of ['localhost', `localhost:${port}`, '127.0.0.1', `[::1]:${port}`, 'LOCALHOST:80']) {
    assert.equal((await get('/', { host })).status, 200, host);
  }
  for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io', '[::2]', '0.0.0.0']) {
    const res = await get('/', { host });
    assert.equal(res.status, 421, `Host: ${host}`);
    const body = res.body.toString();
    assert.equal(body.trim().split('\n').length, 1);
    assert.doesNotMatch(body, /<html/);
    assertSecurityHeaders(res, `Host: ${host}`);
  }
});

test('only GET and HEAD are answered', async () => {
  const res = await get('/', { method: 'POST' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, 'GET, HEAD');
});

test('the benchmark page alone may start blob: workers that import blob: scripts (threaded TF.js); nothing may eval', async () => {
  const res = await get('/www/bench.html');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-security-policy'], /worker-src 'self' blob:;/);
  assert.match(res.headers['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval' blob:;/);
  assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(res.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  for (const path of ['/', '/www/bench.html', '/www/bench.js', '/www/main.js']) {
    assert.doesNotMatch((await get(path)).headers['content-security-policy'], /'unsafe-eval'/, path);
  }
  for (const path of ['/', '/www/main.js']) {
    assert.doesNotMatch((await get(path)).headers['content-security-policy'], /(script|worker)-src[^;]*blob:/, path);
  }
});

test('an error inside the handler is a generic 500 that never echoes the exception', async () => {
  const secret = 'EACCES: secret detail /home/someone/.ssh/id_rsa';
  const failing = await startServer({ root, port: 0, read: async () => { throw new Error(secret); } });
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.join(' '));
  try {
    const res = await get('/index.html', { to: failing.server.address().port, host: 'localhost' });
    assert.equal(res.status, 500);
    assert.equal(res.body.toString(), 'Internal server error.\n');
    assert.doesNotMatch(JSON.stringify(res.headers), /secret/);
    assertSecurityHeaders(res, 'a 500');
  } finally {
    console.error = original;
    await new Promise((resolve) => failing.server.close(resolve));
  }
  assert.ok(logged.some((line) => line.includes(secret)), 'the detail goes to the server log');
});
