"""Minimal safetensors reader/writer (the format is a u64 header length, a JSON header, raw data)."""
import json
import struct

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F16': np.float16, 'I32': np.int32, 'I64': np.int64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def save(tensors, path, metadata=None):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if isinstance(t, torch.Tensor) and t.dtype == torch.bfloat16:
            # numpy has no bfloat16: write the raw 16-bit patterns.
            a, dtype = t.detach().contiguous().view(torch.int16).numpy(), 'BF16'
        else:
            a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
            dtype = NAMES[a.dtype]
        a = np.ascontiguousarray(a)
        data = a.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def load(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        if info['dtype'] == 'BF16':
            raw = np.frombuffer(data[a:b], dtype=np.int16).reshape(info['shape']).copy()
            out[name] = torch.from_numpy(raw).view(torch.bfloat16)
        else:
            out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=DTYPES[info['dtype']]).reshape(info['shape']).copy())
    return out
