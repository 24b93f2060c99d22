// The two sides of a comparison as the pickers hold them (plain strings, so a <select> binds them) and
// what each means to the worker.

import type { CompareSide } from '../../lib/worker/protocol.ts';

/** A side as the pickers hold it: 'onnx', 'engine' (base, no adapter) or 'adapter:<id>'. */
export type SideChoice = string;
export const ONNX_BASE: SideChoice = 'onnx';
export const ENGINE_BASE: SideChoice = 'engine';
export const adapterChoice = (id: string): SideChoice => `adapter:${id}`;

export function toSide(choice: SideChoice): CompareSide {
  if (choice === ONNX_BASE) return { runtime: 'onnx' };
  if (choice.startsWith('adapter:')) return { runtime: 'engine', adapterId: choice.slice('adapter:'.length) };
  return { runtime: 'engine', adapterId: null };
}

/** The adapter a side evaluates with: none for either base (onnxruntime has no loss path here: the engine's base stands in). */
export function evaluationWeights(choice: SideChoice): string | null {
  const side = toSide(choice);
  return side.runtime === 'engine' ? side.adapterId : null;
}
