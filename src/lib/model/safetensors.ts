// safetensors: read and write the format Hugging Face uses for weights and PEFT adapters.
//
// Layout (https://github.com/huggingface/safetensors):
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   JSON object: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                            ..., "__metadata__": {"<key>": "<string>"} }   (padded with spaces)
//   rest      the data section; data_offsets are relative to its first byte
//
// safetensors-dtypes.ts  element types, their sizes, half-precision → float32
// safetensors-read.ts    the validating parser and typed reads of one tensor
// safetensors-write.ts   the writer

export { bf16ToF32, type Dtype, DTYPE_BYTES, f16ToF32 } from './safetensors-dtypes.ts';
export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  type TensorInfo,
  tensorBytes,
  tensorToFloat32,
} from './safetensors-read.ts';
export { type TensorToWrite, writeSafetensors } from './safetensors-write.ts';
