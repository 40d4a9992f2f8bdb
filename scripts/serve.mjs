// The page's static server (node built-ins only): serves index.html and www/, with the right
// MIME types (application/wasm for streaming compilation) and gzip for the big assets.
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

/** Start serving `root` on `port` (0 picks a free one); resolves to { server, url }. */
export function startServer({ root, port = 8080, host = '127.0.0.1' }) {
  const gzipCache = new Map(); // path -> { mtimeMs, body }
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      let path = decodeURIComponent(url.pathname);
      if (path === '/') path = '/index.html';
      const rel = normalize(path).replace(/^[/\\]+/, '');
      if (rel.startsWith('..') || !PUBLIC.some((p) => rel === p || rel.startsWith(p + sep))) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const file = join(root, rel);
      const info = await stat(file).catch(() => null);
      if (!info || !info.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const ext = extname(file);
      const headers = { 'content-type': TYPES[ext] || 'application/octet-stream', 'cache-control': 'no-cache' };
      let body;
      if (COMPRESS.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        const cached = gzipCache.get(file);
        if (cached && cached.mtimeMs === info.mtimeMs) {
          body = cached.body;
        } else {
          body = gzipSync(await readFile(file), { level: 9 });
          gzipCache.set(file, { mtimeMs: info.mtimeMs, body });
        }
        headers['content-encoding'] = 'gzip';
      } else {
        body = await readFile(file);
      }
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${actual}/` });
    });
  });
}
