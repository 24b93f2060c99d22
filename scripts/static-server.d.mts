// Types of static-server.mjs, for the TypeScript tests that import it.
import type { Server } from 'node:http';

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** Closes the server and every connection still open to it. */
  close(): Promise<void>;
}

export interface StaticServer extends LoopbackServer {
  /** The first mount's address, e.g. http://127.0.0.1:41234/some/prefix/ */
  url: string;
  /** Every request answered, as "METHOD /path", in order. */
  requests: string[];
}

export function listenOnLoopback(server: Server): Promise<LoopbackServer>;

export function startStaticServer(mounts: Record<string, string>, options?: { cors?: boolean }): Promise<StaticServer>;
