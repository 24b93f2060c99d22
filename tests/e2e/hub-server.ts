// A stand-in for the Hugging Face Hub: serves a local model folder in the Hub's URL layout
// (/<model id>/resolve/main/<file>), so the hub loader can be tested with no internet. Records every
// path it was asked for. Used by tests/unit/app-runtime.test.ts (Node) and the end-to-end tests.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';

export interface HubServer {
  /** Base URL, ending in '/': what transformers.js calls remoteHost. */
  url: string;
  /** Paths requested (method and path), in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `folder` as the repo `modelId` at revision main. CORS open, as the real Hub's. */
export async function startHubServer(modelId: string, folder: string): Promise<HubServer> {
  const root = resolve(folder);
  const prefix = `/${modelId}/resolve/main/`;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const file = path.startsWith(prefix) ? resolve(root, path.slice(prefix.length)) : '';
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    res.writeHead(200, { 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections(); // a browser keeps connections alive; close() alone would wait on them
        server.close(() => done());
      }),
  };
}
