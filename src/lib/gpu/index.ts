// The GPU layer: device, tensors, pipelines, recording dispatches, readback.
export * from './device.ts';
export * from './tensor.ts';
export * from './pipelines.ts';
export * from './errors.ts';
export * from './uniforms.ts';
export * from './recorder.ts';
export * from './readback.ts';
export * from './counters.ts';
export * from './bindgroups.ts';
