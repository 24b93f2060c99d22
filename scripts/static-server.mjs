// Loopback HTTP servers for the benchmark and the tests. `startStaticServer` serves folders under path
// prefixes with the cross-origin isolation headers a real host would send (onnxruntime's wasm uses
// threads only when the page is cross-origin isolated) and records every request it answers;
// `listenOnLoopback` is the listen-and-close part that every test server shares.
// Types: static-server.d.mts.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.jsonl': 'application/jsonl',
  '.csv': 'text/csv; charset=utf-8',
};

/** Headers that let another origin's page fetch what this server serves, as the Hugging Face Hub does. */
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/** Starts `server` on 127.0.0.1 at a free port. */
export async function listenOnLoopback(server) {
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections(); // a browser keeps connections alive; close() alone would wait on them
        server.close(() => done());
      }),
  };
}

/**
 * Serves `mounts` ({ '/': dir, '/models/': dir }; the longest matching prefix wins) on 127.0.0.1.
 * A folder's path serves its index.html. With `cors`, other origins may fetch the files and a CORS
 * preflight (OPTIONS) is answered.
 */
export async function startStaticServer(mounts, { cors = false } = {}) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    if (cors) {
      for (const [name, value] of Object.entries(CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    }
    const mount = table.find(([prefix]) => path.startsWith(prefix));
    if (!mount) return void res.writeHead(404).end('not under any served prefix');
    const [prefix, dir] = mount;
    let file = resolve(dir, '.' + sep + path.slice(prefix.length));
    if (file !== dir && !file.startsWith(dir + sep)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  const { origin, close } = await listenOnLoopback(server);
  return { origin, url: origin + Object.keys(mounts)[0], requests, close };
}
