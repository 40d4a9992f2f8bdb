// `npm start`: build everything the page needs, then serve it and print the URL.
import { buildAll, log, root } from './toolchain.mjs';
import { startServer } from './serve.mjs';

try {
  await buildAll();
} catch (err) {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
}
const port = Number(process.env.PORT ?? 8080);
const { url } = await startServer({ root, port, host: process.env.HOST || '127.0.0.1' });
log(`serving the demo at ${url}  (Ctrl-C stops)`);
