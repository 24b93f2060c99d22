// The data layer: dataset files → validated examples → segments → tokens with loss flags → (B,T)
// batches. See each file's header for its part. Pure TypeScript, no GPU, usable in a worker or the page.
export * from './problems';
export * from './decode';
export type { RawRecord, ReadOptions, ReadResult } from './records';
export * from './readers';
export * from './formats';
export * from './parse';
export * from './split';
export * from './templates';
export * from './tokenize';
export * from './pack';
export * from './batches';
export * from './preview';
export * from './samples';
export * from './prepare';
export * from './prompts';
export * from './load';
