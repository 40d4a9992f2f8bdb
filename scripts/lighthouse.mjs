// `npm run lighthouse [-- dist]`: Lighthouse 12.2.3 (mobile profile: a mid-range phone, slow 4G
// and a 4× slower CPU, simulated) on the page served by scripts/serve.mjs, from the repository
// or from dist/ (`npm run build` first). Prints the four category scores and anything that cost
// points; the full report goes to tests/output/lighthouse.json. Lighthouse is fetched by npx on
// first use (pinned: 13.x needs Node 22), not installed with the project's test dependencies.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './serve.mjs';
import { CHROMIUM, root } from './toolchain.mjs';

const from = process.argv[2] === 'dist' ? join(root, 'dist') : root;
const report = join(root, 'tests', 'output', 'lighthouse.json');
mkdirSync(join(report, '..'), { recursive: true });
const { server, url } = await startServer({ root: from, port: 0 });
// Run asynchronously: the server answering Lighthouse lives in this process.
const code = await new Promise((resolve) => {
  spawn('npx', ['-y', 'lighthouse@12.2.3', url, '--output=json', `--output-path=${report}`, '--quiet',
    '--chrome-flags=--headless=new --no-sandbox --disable-gpu', '--only-categories=performance,accessibility,best-practices,seo'],
  { env: { ...process.env, CHROME_PATH: CHROMIUM }, stdio: 'inherit' }).on('exit', resolve);
});
server.close();
if (code !== 0) throw new Error(`lighthouse exited with ${code}`);
const r = JSON.parse(readFileSync(report, 'utf8'));
console.log(`Lighthouse ${r.lighthouseVersion}, ${r.configSettings.formFactor}, ${url} (${from === root ? 'repository' : 'dist/'}):`);
for (const [id, c] of Object.entries(r.categories)) {
  console.log(`  ${c.title}: ${Math.round(c.score * 100)}`);
  for (const ref of c.auditRefs) {
    const audit = r.audits[ref.id];
    if (ref.weight > 0 && audit.score !== null && audit.score < 1) console.log(`    ${audit.title}: ${audit.displayValue ?? audit.score}`);
  }
}
for (const id of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift']) console.log(`  ${r.audits[id].title}: ${r.audits[id].displayValue}`);
