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
//                      recognised and kept, but no preference-training method exists yet
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

/** Said plainly wherever preference data shows up. */
export const PREFERENCE_NOTE =
  'This is preference data ({prompt, chosen, rejected}, as DPO uses). It is recognised and kept, but no preference-training method (such as DPO) exists in this app yet, so it cannot be trained on. Use {prompt, completion} or {messages} data to fine-tune.';

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
      break;
    }
  }
  return problems.length === 0 ? { example, problems } : { problems };
}
