// The page's static server (node built-ins only): serves index.html and www/, with the right
// MIME types (application/wasm for streaming compilation), gzip for the big assets, and on every
// response a strict Content-Security-Policy and cross-origin isolation (COOP + COEP). It answers
// only requests addressed to localhost, so a DNS-rebinding page cannot read it.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};
const COMPRESS = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.bin', '.svg']);
// Only these top-level entries are public.
const PUBLIC = ['index.html', 'www'];

/** Nothing inline, nothing from elsewhere; wasm may compile; icons may be data: or blob: URLs.
 * The one fetch from elsewhere is a teacher's tour file (?tour-file=https://…), which Rust reads
 * as data and the page shows as text: https only. */
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; " +
  "img-src 'self' data: blob:; connect-src 'self' https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/** The benchmark page (`npm run bench`) only, which loads TensorFlow.js as vendored scripts and
 * is cross-origin isolated like the page, so TF.js's wasm backend may run its threaded build:
 * that build starts its pthread workers from blob: URLs, and each worker imports the backend's
 * script from another blob: URL (without `blob:` in script-src they fail to start and the
 * backend waits forever). (tf.min.js's regenerator runtime needs no 'unsafe-eval':
 * www/bench-tfjs-shim.js declares the global it would otherwise create.) */
const BENCH_CSP = CSP.replace("worker-src 'self'", "worker-src 'self' blob:").replace("script-src 'self' 'wasm-unsafe-eval'", "script-src 'self' 'wasm-unsafe-eval' blob:");
const BENCH_PAGE = join('www', 'bench.html');

/** Sent on every response, errors included (the benchmark page's CSP excepted, as above). */
export const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The host name of a Host header without its port (an IPv6 literal keeps its brackets). */
function hostName(header) {
  const host = String(header).trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d*$/, '');
}

/** Start serving `root` on `port` (0 picks a free one); resolves to { server, url }. Requests must
 * be addressed to localhost, 127.0.0.1 or [::1] (or to `host` itself when it names one address).
 * `read` reads a file (tests pass one that fails). */
export function startServer({ root, port = 8080, host = '127.0.0.1', read = readFile }) {
  const named = host.includes(':') ? `[${host}]` : host.toLowerCase(); // as a URL or Host names it
  const allowedHosts = new Set(LOCAL_HOSTS);
  if (!WILDCARDS.has(host)) allowedHosts.add(named);
  const gzipCache = new Map(); // path -> { mtimeMs, body }
  const plain = (res, status, text, extra = {}) => {
    const body = `${text}\n`;
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  };
  const server = createServer(async (req, res) => {
    try {
      if (!req.headers.host || !allowedHosts.has(hostName(req.headers.host))) {
        plain(res, 421, 'This server answers only requests for localhost, 127.0.0.1 or [::1].');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        plain(res, 405, 'Only GET and HEAD are allowed.', { allow: 'GET, HEAD' });
        return;
      }
      let path;
      try {
        path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
      } catch {
        plain(res, 400, 'The request path is not a valid URL path.');
        return;
      }
      if (path === '/') path = '/index.html';
      const rel = normalize(path).replace(/^[/\\]+/, '');
      if (rel.startsWith('..') || rel.includes('\0') || !PUBLIC.some((p) => rel === p || rel.startsWith(p + sep))) {
        plain(res, 404, 'Not found.');
        return;
      }
      const file = join(root, rel);
      const info = await stat(file).catch(() => null);
      if (!info || !info.isFile()) {
        plain(res, 404, 'Not found.');
        return;
      }
      const ext = extname(file);
      const headers = { ...SECURITY_HEADERS, 'content-type': TYPES[ext] || 'application/octet-stream', 'cache-control': 'no-cache' };
      if (rel === BENCH_PAGE) headers['content-security-policy'] = BENCH_CSP;
      let body;
      if (COMPRESS.has(ext)) headers.vary = 'accept-encoding';
      if (COMPRESS.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        const cached = gzipCache.get(file);
        if (cached && cached.mtimeMs === info.mtimeMs) {
          body = cached.body;
        } else {
          body = gzipSync(await read(file), { level: 9 });
          gzipCache.set(file, { mtimeMs: info.mtimeMs, body });
        }
        headers['content-encoding'] = 'gzip';
      } else {
        body = await read(file);
      }
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      // The detail goes to the server's log, never to the client.
      console.error(`serve: ${req.method} ${req.url}: ${err?.stack ?? err}`);
      if (res.headersSent) res.destroy();
      else plain(res, 500, 'Internal server error.');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, url: `http://${WILDCARDS.has(host) ? 'localhost' : named}:${actual}/` });
    });
  });
}
