// Checkpoints of a training run: the trainable parameters, AdamW's two moments and its step count,
// as plain ArrayBuffers (the worker stores them in IndexedDB or transfers them to the page). A
// checkpoint names its method and parameter layout, so it can only be restored onto the same one.
import type { MethodConfig } from '../adapters/config.ts';
import type { Trainer } from './step.ts';

export interface Checkpoint {
  method: MethodConfig;
  /** name and shape of every trainable tensor, in storage order (the layout the buffers follow) */
  tensors: { name: string; shape: number[] }[];
  /** optimizer steps taken */
  step: number;
  params: ArrayBuffer;
  m: ArrayBuffer;
  v: ArrayBuffer;
}

function layoutOf(trainer: Trainer): { name: string; shape: number[] }[] {
  return trainer.model.attached!.def.specs.map((s) => ({ name: s.name, shape: [...s.shape] }));
}

export async function saveCheckpoint(trainer: Trainer): Promise<Checkpoint> {
  const a = trainer.model.attached;
  if (!a || a !== trainer.optimizer.attached) throw new Error('saveCheckpoint: the trainer\'s method is no longer attached');
  const [params, m, v] = [await a.params.readAll(), await trainer.optimizer.m.readAll(), await trainer.optimizer.v.readAll()];
  return {
    method: structuredClone(a.def.config),
    tensors: layoutOf(trainer),
    step: trainer.optimizer.t,
    params: params.buffer as ArrayBuffer,
    m: m.buffer as ArrayBuffer,
    v: v.buffer as ArrayBuffer,
  };
}

/** Puts a checkpoint back: parameters, moments and step. The layouts must agree exactly. */
export function restoreCheckpoint(trainer: Trainer, c: Checkpoint): void {
  const a = trainer.model.attached;
  if (!a || a !== trainer.optimizer.attached) throw new Error('restoreCheckpoint: the trainer\'s method is no longer attached');
  const mine = layoutOf(trainer);
  const same = mine.length === c.tensors.length && mine.every((t, i) => t.name === c.tensors[i].name && t.shape.join() === c.tensors[i].shape.join());
  if (!same) throw new Error('restoreCheckpoint: the checkpoint was made for a different method or model');
  const n = a.params.totalElements;
  for (const [what, buf] of [['params', c.params], ['m', c.m], ['v', c.v]] as const) {
    if (buf.byteLength !== n * 4) throw new Error(`restoreCheckpoint: ${what} holds ${buf.byteLength} bytes, expected ${n * 4}`);
  }
  a.params.writeAll(new Float32Array(c.params));
  trainer.optimizer.m.writeAll(new Float32Array(c.m));
  trainer.optimizer.v.writeAll(new Float32Array(c.v));
  trainer.optimizer.t = c.step;
}
