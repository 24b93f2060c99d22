// A prepared dataset at another sequence length. Tokenizing is the slow part of preparing and does not
// depend on T, so when the user changes the max sequence length only the packing (rows, truncation
// warnings, preview numbers) is redone.

import { packExamples, type PreparedData, type PreparedSplit, previewTokenized, type TokenizedExample } from '../../lib/data';

function split(examples: TokenizedExample[], prepared: PreparedData, seqLen: number, padId: number): PreparedSplit {
  const packed = packExamples(examples, { seqLen, mode: prepared.packMode, padId });
  const preview = previewTokenized(examples, { seqLen, padId, mode: prepared.packMode });
  return { examples, packed, preview };
}

/** `prepared` packed into rows of `seqLen` positions; the same object when it already is. */
export function repackPrepared(prepared: PreparedData, seqLen: number, padId: number): PreparedData {
  if (prepared.train.packed.T === seqLen) return prepared;
  const train = split(prepared.train.examples, prepared, seqLen, padId);
  const validation = prepared.validation ? split(prepared.validation.examples, prepared, seqLen, padId) : null;
  // Rendering errors do not depend on T; packing warnings (truncation) do.
  const rendering = prepared.problems.filter((p) => p.severity === 'error');
  return {
    ...prepared,
    train,
    validation,
    problems: [...rendering, ...train.packed.warnings, ...(validation?.packed.warnings ?? [])],
  };
}
