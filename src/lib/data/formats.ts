// Dataset formats: which one a record is in, whether it is well formed, and the typed example it gives.
// Formats are the ones people already have (TRL's dataset formats, Alpaca, DPO):
//
//   text               {"text": "..."}                                  loss on every token
//   prompt-completion  {"prompt": "...", "completion": "..."}           loss on the completion
//   messages           {"messages": [{"role": "user", "content": "..."}, ...]}
//                      rendered with the model's chat template, loss on the assistant turns
//   alpaca             {"instruction": "...", "input": "...", "output": "..."}   (input optional)
//                      rendered with the Alpaca prompt (templates.ts), loss on the output
//   preference         {"prompt": "...", "chosen": "...", "rejected": "..."}     (DPO data)
//                      TRL's four forms: strings or message lists, with the prompt explicit or implicit
//                      (left out: it is the beginning chosen and rejected share, preferencePair below).
//                      Trained by a preference objective (DPO, SimPO, ORPO: train/objective.ts), loss on
//                      the two completions; supervised fine-tuning refuses it (PREFERENCE_NOTE)
//
// Fields other than these are ignored. Field values must be strings (messages: an array of
// {role, content} objects with string content).

import { showValue } from '../show.ts';
import { type DataProblem, kindOfValue, type Where } from './problems';
import type { RawRecord } from './records';

export type DatasetFormat = 'text' | 'prompt-completion' | 'messages' | 'alpaca' | 'preference';

export const FORMAT_LABELS: Readonly<Record<DatasetFormat, string>> = {
  text: '{text}',
  'prompt-completion': '{prompt, completion}',
  messages: '{messages}',
  alpaca: '{instruction, input, output}',
  preference: '{prompt, chosen, rejected}',
};

/** What each format trains on, in words for the UI. */
export const FORMAT_DESCRIPTIONS: Readonly<Record<DatasetFormat, string>> = {
  text: 'plain text; the loss counts every token',
  'prompt-completion': 'prompt → completion; the loss counts the completion only',
  messages: "chat messages rendered with the model's chat template; the loss counts the assistant turns",
  alpaca: 'Alpaca instruction/input/output rendered with the Alpaca prompt; the loss counts the output',
  preference: 'a prompt with a chosen and a rejected answer, as DPO uses',
};

/** Said plainly wherever preference data meets supervised fine-tuning. */
export const PREFERENCE_NOTE =
  'This is preference data ({prompt, chosen, rejected}, as DPO uses). Supervised fine-tuning cannot train on it: pick a preference objective (DPO, SimPO or ORPO) — the Objective setting on the page, --objective dpo on the command line — or use {prompt, completion} or {messages} data to fine-tune.';

/** Said when a preference objective meets data that is not preference pairs. */
export function notPairsMessage(file: string, format: DatasetFormat): string {
  return `${file} is ${FORMAT_LABELS[format]} data, but a preference objective (DPO, SimPO, ORPO) trains on pairs: {prompt, chosen, rejected}`;
}

/** Roles a chat message may have. */
export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type Example = { where: Where } & (
  | { format: 'text'; text: string }
  | { format: 'prompt-completion'; prompt: string; completion: string }
  | { format: 'messages'; messages: ChatMessage[] }
  | { format: 'alpaca'; instruction: string; input: string; output: string }
  | {
      format: 'preference';
      /** null when the prompt is implicit (contained in chosen/rejected). */
      prompt: string | ChatMessage[] | null;
      chosen: string | ChatMessage[];
      rejected: string | ChatMessage[];
    }
);

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The format a record's fields say it is in, or null. Checked most specific first, so a record with
 * prompt, chosen and rejected is preference data, not prompt-completion.
 */
export function detectFormat(value: unknown): DatasetFormat | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as object;
  if (has(o, 'messages')) return 'messages';
  if (has(o, 'chosen') && has(o, 'rejected')) return 'preference';
  if (has(o, 'instruction') && has(o, 'output')) return 'alpaca';
  if (has(o, 'prompt') && has(o, 'completion')) return 'prompt-completion';
  if (has(o, 'text')) return 'text';
  return null;
}

/** Field names a message lists before "and N more". */
const LISTED_FIELDS = 8;

/** A preference example with its prompt made explicit: the prompt, and the two completions that follow it. */
export type PreferencePair =
  | { conversational: false; prompt: string; chosen: string; rejected: string }
  | { conversational: true; prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] };

const sameMessage = (a: ChatMessage, b: ChatMessage) => a.role === b.role && a.content === b.content;

/**
 * The prompt and the two completions of a pair, or why it has none. An implicit prompt (TRL's
 * extract_prompt) is the beginning chosen and rejected share: for text, the characters up to the
 * first that differ (a space just before the difference goes with the completions, as tokenizers
 * attach it to the next word); for conversations, the messages up to the first that differ.
 */
export function preferencePair(ex: Extract<Example, { format: 'preference' }>): { pair: PreferencePair } | { problem: { field: string; message: string } } {
  const { prompt, chosen, rejected } = ex;
  const bad = (field: string, message: string) => ({ problem: { field, message } });
  if (typeof chosen !== typeof rejected) {
    return bad('rejected', `is ${typeof rejected === 'string' ? 'text' : 'a list of messages'} but chosen is ${typeof chosen === 'string' ? 'text' : 'a list of messages'}: a pair gives both the same way`);
  }
  if (JSON.stringify(chosen) === JSON.stringify(rejected)) return bad('rejected', 'is the same as chosen: the pair prefers nothing');
  let pair: PreferencePair;
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    if (prompt !== null && typeof prompt !== 'string') return bad('prompt', 'is a list of messages but chosen and rejected are text: give the prompt as text too');
    if (prompt !== null) pair = { conversational: false, prompt, chosen, rejected };
    else {
      let i = 0;
      while (i < chosen.length && i < rejected.length && chosen[i] === rejected[i]) i++;
      if (i > 0 && i < chosen.length && i < rejected.length && chosen[i - 1] === ' ') i--;
      if (chosen.slice(0, i).trim() === '') {
        return bad('prompt', 'is missing: there is no "prompt" field, and chosen and rejected do not begin alike (an implicit prompt is the beginning both share)');
      }
      pair = { conversational: false, prompt: chosen.slice(0, i), chosen: chosen.slice(i), rejected: rejected.slice(i) };
    }
    for (const side of ['chosen', 'rejected'] as const) {
      if (pair[side].trim() === '') return bad(side, prompt === null ? 'has nothing after the prompt it shares with the other answer' : 'is empty');
    }
    return { pair };
  }
  const c = chosen as ChatMessage[];
  const r = rejected as ChatMessage[];
  if (prompt !== null && typeof prompt === 'string') return bad('prompt', 'is text but chosen and rejected are lists of messages: give the prompt as messages too');
  if (prompt !== null) pair = { conversational: true, prompt: prompt as ChatMessage[], chosen: c, rejected: r };
  else {
    let i = 0;
    while (i < c.length && i < r.length && sameMessage(c[i], r[i])) i++;
    if (i === 0) return bad('prompt', 'is missing: there is no "prompt" field, and chosen and rejected do not begin with the same messages (an implicit prompt is the messages both share)');
    pair = { conversational: true, prompt: c.slice(0, i), chosen: c.slice(i), rejected: r.slice(i) };
  }
  for (const side of ['chosen', 'rejected'] as const) {
    const msgs = pair[side];
    const other = msgs.find((m) => m.role !== 'assistant');
    if (other) return bad(side, `holds a ${other.role} message after the prompt: a completion is the assistant's answer`);
    if (!msgs.some((m) => m.content.trim() !== '')) return bad(side, prompt === null ? 'has no assistant answer after the prompt it shares with the other answer' : 'has no assistant message with content');
  }
  return { pair };
}

export function unknownFormatMessage(value: unknown): string {
  const keys = value && typeof value === 'object' ? Object.keys(value) : [];
  const listed = keys.slice(0, LISTED_FIELDS).map((k) => showValue(k, 60));
  if (keys.length > LISTED_FIELDS) listed.push(`and ${keys.length - LISTED_FIELDS} more`);
  const found = keys.length ? `found field${keys.length === 1 ? '' : 's'} ${listed.join(', ')}` : 'found no fields';
  return `no known format: ${found}; expected ${Object.values(FORMAT_LABELS).join(', ')}`;
}

/**
 * Checks a record against the format `format` and builds its example. Returns every problem found
 * (a record may have several); `example` is set only when there are no errors.
 */
export function validateRecord(rec: RawRecord, format: DatasetFormat): { example?: Example; problems: DataProblem[] } {
  const problems: DataProblem[] = [];
  const o = rec.value as Record<string, unknown>;
  const err = (field: string | undefined, message: string) => problems.push({ where: rec.where, field, message, severity: 'error' });

  /**
   * The string `obj[key]`, its problems reported at `path`; undefined when it is missing or not a string.
   * A missing field is a problem unless `optional`; "" is one unless `allowEmpty`.
   */
  const stringAt = (
    obj: Record<string, unknown>,
    key: string,
    path: string,
    opts: { allowEmpty?: boolean; optional?: boolean } = {},
  ): string | undefined => {
    const v = obj[key];
    if (v === undefined || (opts.optional && v === null)) {
      if (!opts.optional) err(path, `missing field "${key}"`);
      return undefined;
    }
    if (typeof v !== 'string') {
      err(path, `must be a string, found ${kindOfValue(v)}`);
      return undefined;
    }
    if (!opts.allowEmpty && v.trim() === '') err(path, 'is empty');
    return v;
  };

  /** A string field of the record ("" when it has none). */
  const str = (field: string, opts: { allowEmpty?: boolean; optional?: boolean } = {}): string => stringAt(o, field, field, opts) ?? '';

  const messages = (field: string, opts: { needAssistant: boolean }): ChatMessage[] => {
    const v = o[field];
    if (!Array.isArray(v)) {
      err(field, `must be an array of {role, content} messages, found ${kindOfValue(v)}`);
      return [];
    }
    if (v.length === 0) {
      err(field, 'is an empty list of messages');
      return [];
    }
    const out: ChatMessage[] = [];
    v.forEach((m, k) => {
      const path = `${field}[${k}]`;
      if (m === null || typeof m !== 'object' || Array.isArray(m)) {
        err(path, `must be a {role, content} object, found ${kindOfValue(m)}`);
        return;
      }
      const mo = m as Record<string, unknown>;
      const role = stringAt(mo, 'role', `${path}.role`, { allowEmpty: true });
      const knownRole = role !== undefined && (CHAT_ROLES as readonly string[]).includes(role);
      if (role !== undefined && !knownRole) err(`${path}.role`, `unknown role ${showValue(role, 60)} (expected ${CHAT_ROLES.join(', ')})`);
      const content = stringAt(mo, 'content', `${path}.content`, { allowEmpty: true });
      if (knownRole && content !== undefined) out.push({ role: role as ChatRole, content });
    });
    if (opts.needAssistant && out.length === v.length && !out.some((m) => m.role === 'assistant' && m.content.trim() !== '')) {
      err(field, 'has no assistant message with content: nothing to train on');
    }
    return out;
  };

  const strOrMessages = (field: string): string | ChatMessage[] =>
    Array.isArray(o[field]) ? messages(field, { needAssistant: false }) : str(field);

  let example: Example | undefined;
  const where = rec.where;
  switch (format) {
    case 'text':
      example = { where, format, text: str('text') };
      break;
    case 'prompt-completion':
      example = { where, format, prompt: str('prompt', { allowEmpty: true }), completion: str('completion') };
      break;
    case 'messages':
      example = { where, format, messages: messages('messages', { needAssistant: true }) };
      break;
    case 'alpaca':
      example = {
        where,
        format,
        instruction: str('instruction'),
        input: str('input', { allowEmpty: true, optional: true }),
        output: str('output'),
      };
      break;
    case 'preference': {
      const prompt = o.prompt === undefined ? null : strOrMessages('prompt');
      example = { where, format, prompt, chosen: strOrMessages('chosen'), rejected: strOrMessages('rejected') };
      // A pair that is well formed field by field must also have a prompt and two different answers.
      if (problems.length === 0) {
        const split = preferencePair(example);
        if ('problem' in split) err(split.problem.field, split.problem.message);
      }
      break;
    }
  }
  return problems.length === 0 ? { example, problems } : { problems };
}
