// Adapters in Hugging Face PEFT's format: adapter_config.json + adapter_model.safetensors (or a .zip).
export * from './config';
export * from './adapter';
export * from './zip';
