#!/usr/bin/env node
// Writes the regression corpus: files crafted to break a parser, one per way a hostile or broken file
// has gone (or could go) wrong. tests/corpus/manifest.json says, for each file, which reader gets it
// and the message it must answer with; tests/fuzz/corpus.test.ts checks both, within the fuzz suite's
// time budget. The files are committed, so this only needs running to add a case:
//
//   node tests/corpus/make-corpus.mjs
//
// It writes the bytes by hand (zip entries deflated by node:zlib, safetensors headers as JSON), since
// what it must produce — archives that lie about their sizes, headers with overlapping offsets — is
// exactly what the app's own writers refuse to make. Everything is deterministic.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const OUT = join(HERE, 'files');

// ─── formats ─────────────────────────────────────────────────────────────────────────────────────

let crcTable = null;
function crc32(data) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A zip of entries { name, stored?: bytes, deflated?: bytes, size, crc }: `size` and `crc` are what
 * the headers declare, whatever the data really holds.
 */
function zip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const data = e.deflated ?? e.stored;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.deflated ? 8 : 0, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(e.deflated ? 8 : 0, 10);
    cd.writeUInt32LE(e.crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(e.size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    parts.push(local, name, data);
    offset += 30 + name.length + data.length;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBytes, end]);
}

const stored = (name, data) => ({ name, stored: Buffer.from(data), size: Buffer.byteLength(data), crc: crc32(Buffer.from(data)) });

/** Deflates `n` zero bytes a megabyte at a time (a gigabyte never sits in memory); also returns their CRC-32. */
async function deflatedZeros(n) {
  const chunk = Buffer.alloc(1 << 20);
  const d = createDeflateRaw({ level: 9 });
  const out = [];
  d.on('data', (c) => out.push(c));
  const ended = new Promise((ok) => d.on('end', ok));
  let crc = 0xffffffff;
  if (!crcTable) crc32(new Uint8Array(0));
  for (let left = n; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    for (let i = 0; i < part.length; i++) crc = crcTable[(crc ^ 0) & 0xff] ^ (crc >>> 8);
    if (!d.write(part)) await new Promise((ok) => d.once('drain', ok));
  }
  d.end();
  await ended;
  return { deflated: Buffer.concat(out), crc: (crc ^ 0xffffffff) >>> 0 };
}

/** safetensors bytes: an 8-byte header length (`headerLength` overrides the true one), the header, the data. */
function safetensors(header, data = Buffer.alloc(0), headerLength) {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLength ?? json.length));
  return Buffer.concat([len, json, data]);
}

/** The recipe's LoRA adapter for brown-llama-4m (tests/fixtures/lora.*) as PEFT saves it: config text and weights. */
function fixtureLora({ nanAt } = {}) {
  const config = readFileSync(join(ROOT, 'tests/fixtures/lora.json'), 'utf8');
  const b = readFileSync(join(ROOT, 'tests/fixtures/lora.safetensors'));
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString());
  const keep = Object.entries(header).filter(([k]) => k !== '__metadata__' && k.includes('.lora_') && !k.endsWith('.grad'));
  const out = { __metadata__: { format: 'pt' } };
  const chunks = [];
  let at = 0;
  for (const [k, v] of keep.sort(([a], [c]) => (a < c ? -1 : 1))) {
    const data = Buffer.from(b.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]));
    if (nanAt === k) data.writeFloatLE(NaN, 4 * 3);
    out[k] = { dtype: v.dtype, shape: v.shape, data_offsets: [at, at + data.length] };
    chunks.push(data);
    at += data.length;
  }
  return { config, weights: safetensors(out, Buffer.concat(chunks)) };
}

// ─── the cases ───────────────────────────────────────────────────────────────────────────────────

const nested = (depth, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);

async function cases() {
  const lora = fixtureLora();
  const loraCfg = JSON.parse(lora.config);
  const withConfig = (fields) => JSON.stringify({ ...loraCfg, ...fields });
  const firstKey = 'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight';
  const bomb = await deflatedZeros(1 << 30);
  const lie = await deflatedZeros(10 << 20);
  const f32 = (shape, data_offsets) => ({ dtype: 'F32', shape, data_offsets });

  return [
    // adapter_config.json, read alone
    {
      file: 'redos-target-modules.json',
      reader: 'adapter_config',
      bytes: withConfig({ target_modules: '(.|.)*Z' }),
      expect: 'target_modules "(.|.)*Z" match no module of brown-llama-4m',
      why: 'a pattern with catastrophic backtracking: once froze the page for minutes',
    },
    {
      file: 'lookahead-target-modules.json',
      reader: 'adapter_config',
      bytes: withConfig({ target_modules: '^(?!.*vision).*\\.q_proj$' }),
      expect: 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) cannot be matched in linear time',
      why: 'PEFT accepts it (Python re); a linear-time engine cannot run it',
    },
    {
      file: 'deeply-nested-config.json',
      reader: 'adapter_config',
      bytes: withConfig({ target_modules: '@' }).replace('"@"', nested(100_000)),
      expect: 'target_modules must be a non-empty list of module names or a regular expression, got [[[[[[[[[…]]]]]]]]',
      why: 'JSON.parse takes any depth; quoting it with JSON.stringify overflowed the stack',
    },
    {
      file: 'config-not-an-object.json',
      reader: 'adapter_config',
      bytes: nested(50_000),
      expect: 'adapter_config.json: must be a JSON object',
      why: 'a deeply nested array instead of an object',
    },
    // adapter_model.safetensors, parsed alone
    {
      file: 'header-length-huge.safetensors',
      reader: 'safetensors',
      bytes: safetensors({}, Buffer.alloc(0), 2n ** 40n),
      expect: 'header length 1099511627776 bytes exceeds the limit of 100000000 bytes',
      why: 'a u64 header length far past any real header',
    },
    {
      file: 'header-length-past-end.safetensors',
      reader: 'safetensors',
      bytes: safetensors({ a: f32([1], [0, 4]) }, Buffer.alloc(4), 100_000_000),
      expect: 'header length 100000000 bytes runs past the end of the file',
      why: 'a header length at the limit, in a file far shorter',
    },
    {
      file: 'header-length-zero.safetensors',
      reader: 'safetensors',
      bytes: Buffer.alloc(64),
      expect: 'header length 0 bytes is too short for a JSON object',
      why: 'zeros: what a zip bomb inflates to',
    },
    {
      file: 'overlapping-offsets.safetensors',
      reader: 'safetensors',
      bytes: safetensors({ a: f32([4], [0, 16]), b: f32([4], [8, 24]) }, Buffer.alloc(24)),
      expect: 'tensor "b": data_offsets [8, 24] overlap tensor "a" [0, 16]',
      why: 'two tensors sharing bytes',
    },
    {
      file: 'shape-overflow.safetensors',
      reader: 'safetensors',
      bytes: safetensors({ a: f32([2 ** 40, 2 ** 40], [0, 0]) }),
      expect: 'tensor "a": shape [1099511627776,1099511627776] of F32 is too large: its byte size overflows (more than 2^53 bytes)',
      why: 'a shape whose product is past 2^53',
    },
    {
      file: 'unknown-dtype.safetensors',
      reader: 'safetensors',
      bytes: safetensors({ a: { dtype: 'F4', shape: [2], data_offsets: [0, 1] } }, Buffer.alloc(1)),
      expect: 'tensor "a": unknown dtype "F4"',
      why: 'a dtype the format does not define',
    },
    {
      file: 'deeply-nested-shape.safetensors',
      reader: 'safetensors',
      bytes: safetensors(`{"a":{"dtype":"F32","shape":${nested(100_000)},"data_offsets":[0,4]}}`, Buffer.alloc(4)),
      expect: 'tensor "a": shape must be an array of non-negative integers, got [[[[[[[[[…]]]]]]]]',
      why: 'nesting deep enough to overflow a recursive printer',
    },
    {
      file: 'markup-name.safetensors',
      reader: 'safetensors',
      bytes: safetensors({ '<img src=x onerror=alert(1)>': f32([2], [0, 4]) }, Buffer.alloc(4)),
      expect: 'tensor "<img src=x onerror=alert(1)>": shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4',
      why: 'a tensor name that is HTML: quoted as text, never as markup',
    },
    // a whole adapter (.zip or two files) imported for brown-llama-4m
    {
      file: 'nan-tensor.zip',
      reader: 'adapter',
      bytes: zip([stored('adapter_config.json', lora.config), stored('adapter_model.safetensors', fixtureLora({ nanAt: firstKey }).weights)]),
      expect: `tensor "${firstKey}" holds a non-finite value (NaN) at element 3`,
      why: 'a NaN in the weights would poison every output',
    },
    {
      file: 'zip-bomb.zip',
      reader: 'adapter',
      bytes: zip([stored('adapter_config.json', lora.config), { name: 'adapter_model.safetensors', deflated: bomb.deflated, size: 1 << 30, crc: bomb.crc }]),
      expect:
        'adapter_model.safetensors would decompress to 1,073,741,824 bytes, over the limit of 1,640,448 bytes (the most a LORA adapter of this adapter_config.json for brown-llama-4m can hold: 56 tensors, 73,984 values, as F64, plus its header)',
      why: 'a 1 MiB zip holding 1 GiB of zeros: once inflated in full (tab from 1.6 to 4.5 GB, 7–13 s frozen)',
    },
    {
      file: 'zip-lies-about-size.zip',
      reader: 'adapter',
      bytes: zip([stored('adapter_config.json', lora.config), { name: 'adapter_model.safetensors', deflated: lie.deflated, size: 1000, crc: lie.crc }]),
      expect: 'adapter_model.safetensors: decompresses to more than the 1,000 bytes the archive declares for it; the archive lies about its sizes (a zip bomb?)',
      why: 'declares 1,000 bytes, inflates to 10 MiB',
    },
    {
      file: 'redos-target-modules.zip',
      reader: 'adapter',
      bytes: zip([stored('adapter_config.json', withConfig({ target_modules: '(.|.)*Z' })), stored('adapter_model.safetensors', lora.weights)]),
      expect: 'target_modules "(.|.)*Z" match no module of brown-llama-4m',
      why: 'the reported freeze, as the user dropped it',
    },
    {
      file: 'truncated.zip',
      reader: 'adapter',
      bytes: zip([stored('adapter_config.json', lora.config), stored('adapter_model.safetensors', lora.weights)]).subarray(0, 5000),
      expect: 'truncated.zip: not a ZIP archive (no end-of-central-directory record): truncated or not a zip',
      why: 'a download cut short',
    },
    {
      file: 'deflate-corrupt.zip',
      reader: 'adapter',
      bytes: zip([
        stored('adapter_config.json', lora.config),
        { name: 'adapter_model.safetensors', deflated: Buffer.from([0xff, 0xff, 0xff, 0xff]), size: 100, crc: 0 },
      ]),
      expect: 'adapter_model.safetensors: compressed data is corrupt',
      why: 'deflate data that is not deflate',
    },
    // dataset files
    {
      file: 'deeply-nested.jsonl',
      reader: 'dataset',
      bytes: `{"text": ${nested(90_000, '"x"')}}\n`,
      expect: 'deeply-nested.jsonl, line 1, field "text": must be a string, found an array',
      why: 'nesting past any recursive walker, in a line just under the length limit',
    },
    {
      file: 'deeply-nested.json',
      reader: 'dataset',
      bytes: `[${nested(90_000, '{}')}]`,
      expect: 'deeply-nested.json, item 1 (line 1): expected a JSON object, found an array',
      why: 'the .json reader scans items with its own depth counter',
    },
    {
      file: 'utf16.jsonl',
      reader: 'dataset',
      bytes: Buffer.from('\ufeff{"text": "hi"}\n', 'utf16le'),
      expect: 'utf16.jsonl: not UTF-8 text: the file is UTF-16 or UTF-32 (by its byte-order mark); save it as UTF-8',
      why: 'a file saved as UTF-16',
    },
    {
      file: 'binary.csv',
      reader: 'dataset',
      bytes: Buffer.concat([Buffer.from('prompt,completion\n'), deflateRawSync(Buffer.from('a,b\n'.repeat(64))), Buffer.alloc(16)]),
      expect: 'binary.csv, line 2: not UTF-8 text: a NUL byte',
      why: 'binary data under a CSV header',
    },
    {
      file: 'markup.jsonl',
      reader: 'dataset',
      bytes: '{"prompt": "<script>alert(1)</script>", "<b>completion</b>": "x"}\n',
      expect: 'markup.jsonl, line 1: no known format: found fields "prompt", "<b>completion</b>"',
      why: 'field names that are HTML: quoted as text',
    },
    // model config.json
    {
      file: 'config-huge-sizes.json',
      reader: 'model_config',
      bytes: JSON.stringify({ model_type: 'llama', vocab_size: 4096, hidden_size: 1e12, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 4 }),
      expect: 'config.json: "hidden_size" must be a whole number from 1 to 65,536, got 1000000000000',
      why: 'sizes that would make the engine allocate terabytes before reading a weight',
    },
    {
      file: 'config-nested-rope.json',
      reader: 'model_config',
      bytes: JSON.stringify({ model_type: 'llama', vocab_size: 4096, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 4, rope_scaling: '@' }).replace(
        '"@"',
        `{"rope_type":${nested(100_000)}}`,
      ),
      expect: 'config.json: rope_scaling {"rope_type":[[[[[[[[…]]]]]]]]} is not supported',
      why: 'nesting in a field the message quotes',
    },
    {
      file: 'config-heads.json',
      reader: 'model_config',
      bytes: JSON.stringify({ model_type: 'llama', vocab_size: 4096, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 3 }),
      expect: 'config.json: the head size (hidden size / heads, or head_dim) must be a whole number, got 85.33333333333333',
      why: 'heads that do not split the width',
    },
  ];
}

const list = await cases();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
for (const c of list) writeFileSync(join(OUT, c.file), typeof c.bytes === 'string' ? Buffer.from(c.bytes) : c.bytes);
const manifest = list.map(({ file, reader, expect, why }) => ({ file, reader, expect, why }));
writeFileSync(join(HERE, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${list.length} files to ${OUT}`);
