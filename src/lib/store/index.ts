// Where adapters, checkpoints, preference pairs and made models are kept: IndexedDB (see db.ts), shared by the page and the worker.
export * from './db.ts';
export * from './names.ts';
export * from './adapters.ts';
export * from './checkpoints.ts';
export * from './persist.ts';
export * from './preferences.ts';
export * from './models.ts';
export * from './raft-runs.ts';
