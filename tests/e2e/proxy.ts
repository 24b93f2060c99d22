// A recording HTTP proxy that Chromium sends ALL its traffic through (loopback included), so the tests
// see every request the browser makes — page, worker, nested wasm threads alike — not only what a page
// reports. Requests to the allowed origins are forwarded; anything else is recorded and refused, so a
// stray CDN or Hub request both fails the test and never leaves the machine.

import { request as httpRequest, createServer, type Server } from 'node:http';
import { listenOnLoopback } from '../../scripts/static-server.mjs';

export interface RecordingProxy {
  /** host:port to give Chromium's --proxy-server. */
  address: string;
  /** Every URL requested through the proxy (https: ones as CONNECT host:port). */
  requests: string[];
  /** Requests refused because they were not on an allowed origin. */
  refused: string[];
  /** Adds an origin (e.g. http://127.0.0.1:1234) whose requests are forwarded. */
  allow(origin: string): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const allowed = new Set<string>();
  const requests: string[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      refused.push(url);
      res.writeHead(400).end('absolute URL expected');
      return;
    }
    if (!allowed.has(target.origin)) {
      refused.push(url);
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end(`refused by the test proxy: ${target.origin}`);
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(upstream);
  });
  // HTTPS goes through CONNECT: never allowed (the app and the test servers speak plain http).
  server.on('connect', (req, socket) => {
    const target = `CONNECT ${req.url ?? ''}`;
    requests.push(target);
    refused.push(target);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  const loopback = await listenOnLoopback(server);
  return {
    address: new URL(loopback.origin).host,
    requests,
    refused,
    allow: (origin) => allowed.add(origin),
    close: loopback.close,
  };
}
