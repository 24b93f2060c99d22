// What both runtimes hand back while generating: each token with the text it adds, and at the end the
// whole result with its timing. One streaming decoder for both, so base and tuned text are cut into
// pieces the same way.

/** One generated token and the text it completed (may be '' while a multi-byte character is pending). */
export interface StreamedToken {
  index: number;
  id: number;
  text: string;
}

/** Why generation ended: an end-of-sequence token, the token limit, or Stop. */
export type StopReason = 'eos' | 'length' | 'stopped';

export interface GenerationResult {
  /** The exact text the model saw (the chat template applied, when asked). */
  renderedPrompt: string;
  promptIds: number[];
  /** Generated token ids, an end-of-sequence token included when one stopped generation. */
  tokenIds: number[];
  /** Generated text, special tokens removed. */
  text: string;
  stopReason: StopReason;
  /** From the start of generation to the first new token (the prompt's forward pass). */
  prefillMs: number;
  /** From the first new token to the last. */
  decodeMs: number;
  /** Decoding speed: tokens after the first per second of decodeMs (all tokens over the total when only one). */
  tokensPerSecond: number;
}

/**
 * Turns generated ids into text pieces. Decodes the whole continuation after each token and emits what
 * is new, so tokens that split a UTF-8 character or merge across a boundary still come out right; text
 * ending in U+FFFD (an incomplete character) is held back until a later token completes it.
 */
export class TextStream {
  readonly ids: number[] = [];
  private printed = 0;
  private readonly started = performance.now();
  private firstAt = 0;
  private lastAt = 0;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly onToken: (token: StreamedToken) => void,
  ) {}

  push(id: number): void {
    const now = performance.now();
    if (this.ids.length === 0) this.firstAt = now;
    this.lastAt = now;
    this.ids.push(id);
    const text = this.decode(this.ids);
    let piece = '';
    if (!text.endsWith('\uFFFD')) {
      piece = text.slice(this.printed);
      this.printed = text.length;
    }
    this.onToken({ index: this.ids.length - 1, id, text: piece });
  }

  /** Emits what was held back and returns the result. */
  finish(prompt: { rendered: string; ids: number[] }, stopReason: StopReason): GenerationResult {
    const ids = this.ids;
    const text = this.decode(ids);
    const rest = text.slice(this.printed);
    if (rest && ids.length) this.onToken({ index: ids.length - 1, id: ids[ids.length - 1], text: rest });
    const prefillMs = ids.length ? this.firstAt - this.started : performance.now() - this.started;
    const decodeMs = ids.length ? this.lastAt - this.firstAt : 0;
    const tokensPerSecond =
      ids.length > 1 && decodeMs > 0 ? ((ids.length - 1) * 1000) / decodeMs : ids.length ? (ids.length * 1000) / (prefillMs + decodeMs) : 0;
    return { renderedPrompt: prompt.rendered, promptIds: prompt.ids, tokenIds: [...ids], text, stopReason, prefillMs, decodeMs, tokensPerSecond };
  }
}
