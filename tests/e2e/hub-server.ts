// A stand-in for the Hugging Face Hub: serves a local model folder in the Hub's URL layout
// (/<model id>/resolve/main/<file>), so the hub loader can be tested with no internet. Records every
// path it was asked for. Used by tests/unit/app-runtime.test.ts (Node) and the end-to-end tests.

import { startStaticServer } from '../../scripts/static-server.mjs';

export interface HubServer {
  /** Base URL, ending in '/': what transformers.js calls remoteHost. */
  url: string;
  /** Paths requested (method and path), in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `folder` as the repo `modelId` at revision main. CORS open, as the real Hub's. */
export async function startHubServer(modelId: string, folder: string): Promise<HubServer> {
  const { origin, requests, close } = await startStaticServer({ [`/${modelId}/resolve/main/`]: folder }, { cors: true });
  return { url: `${origin}/`, requests, close };
}
