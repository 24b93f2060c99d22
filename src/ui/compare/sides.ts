// The two sides of a comparison as the pickers hold them (plain strings, so a <select> binds them),
// what each means to the worker, and the options the pickers offer.

import type { ModelDtype } from '../../lib/base/catalog.ts';
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

export const ENGINE_BASE_LABEL = 'Base model (WebGPU engine, no adapter)';
/** onnxruntime-web's base, named with the ONNX weights it loaded (q4 next to an f32 tuned side is not a fair comparison). */
export const onnxBaseLabel = (dtype: ModelDtype): string => `Base model (onnxruntime-web, ${dtype})`;

export interface SideOption {
  value: SideChoice;
  label: string;
}

/**
 * What a side can be: the engine's base first — the same weights and dtype as a tuned side, so the
 * default comparison shows only what the adapter changed — then onnxruntime-web's base, labelled with
 * its dtype (absent when the model has no ONNX graph: `onnxDtype` null), then the saved adapters.
 */
export function sideOptions(onnxDtype: ModelDtype | null, adapters: readonly { id: string; name: string }[]): SideOption[] {
  return [
    { value: ENGINE_BASE, label: ENGINE_BASE_LABEL },
    ...(onnxDtype === null ? [] : [{ value: ONNX_BASE, label: onnxBaseLabel(onnxDtype) }]),
    ...adapters.map((m) => ({ value: adapterChoice(m.id), label: `${m.name} (adapter)` })),
  ];
}
