// What is wrong with a method or a training config on a model, each problem a sentence the page, the
// worker and the command line show as they are. [] means it can train.

import type { MethodConfig } from '../adapters/config.ts';
import { isTargetModule } from '../adapters/config.ts';
import { allLinears, projectionNames } from '../adapters/lora.ts';
import { targetPatternProblem } from '../adapters/target-pattern.ts';
import { architectureFor } from '../model/architecture.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TrainConfig } from './config.ts';
import { showValue } from '../show.ts';
import { DPO_LOSS_TYPES, OBJECTIVE_TYPES, type ObjectiveConfig } from './objective.ts';

const isInt = (x: number, lo: number, hi = Infinity) => Number.isInteger(x) && x >= lo && x <= hi;
const isNum = (x: number, lo: number, hi = Infinity) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;

/** Every problem with a method's settings on this model. */
export function methodProblems(m: MethodConfig, cfg: ModelConfig): string[] {
  const p: string[] = [];
  switch (m.peft_type) {
    case 'LORA': {
      if (!isInt(m.r, 1, 1024)) p.push(`LoRA rank must be a whole number from 1 to 1024 (got ${m.r})`);
      if (!isNum(m.lora_alpha, Number.MIN_VALUE)) p.push(`LoRA alpha must be a number above 0 (got ${m.lora_alpha})`);
      if (!isNum(m.lora_dropout, 0) || m.lora_dropout >= 1) p.push(`LoRA dropout must be at least 0 and below 1 (got ${m.lora_dropout})`);
      const arch = architectureFor(cfg);
      const known = projectionNames(arch);
      if (Array.isArray(m.target_modules)) {
        if (m.target_modules.length === 0) p.push('LoRA needs at least one target module');
        const unknown = m.target_modules.filter((t) => !allLinears(arch).some((lin) => isTargetModule([t], lin.module)));
        if (unknown.length) p.push(`this model has no module ${unknown.map((u) => `"${u}"`).join(', ')} (it has ${known.join(', ')})`);
      } else if (m.target_modules !== 'all-linear' && targetPatternProblem(m.target_modules)) {
        p.push(`target_modules ${showValue(m.target_modules)} ${targetPatternProblem(m.target_modules)}`);
      } else if (!allLinears(arch).some((lin) => isTargetModule(m.target_modules, lin.module))) {
        p.push(`target_modules ${showValue(m.target_modules)} matches no module of this model (it has ${known.join(', ')})`);
      }
      const layers = m.layers_to_transform;
      if (layers && (layers.length === 0 || layers.some((l) => !isInt(l, 0, cfg.layers - 1)))) {
        p.push(`layers to transform must be layer numbers from 0 to ${cfg.layers - 1} (got ${layers.join(', ') || 'none'})`);
      }
      break;
    }
    case 'BOTTLENECK':
      if (!isInt(m.bottleneck_size, 1, 4 * cfg.hidden)) {
        p.push(`bottleneck size must be a whole number from 1 to ${4 * cfg.hidden} (got ${m.bottleneck_size})`);
      }
      if (m.placement.length === 0) p.push('place the bottleneck adapter after attention, after the MLP, or both');
      break;
    case 'PREFIX_TUNING':
      if (!isInt(m.num_virtual_tokens, 1, 512)) p.push(`virtual tokens must be a whole number from 1 to 512 (got ${m.num_virtual_tokens})`);
      else if (m.num_virtual_tokens >= cfg.maxPositions) p.push(`virtual tokens must leave room for text: fewer than ${cfg.maxPositions}`);
      break;
    case 'FULL':
      break;
  }
  return p;
}

/** Every problem with a training config on this model. */
export function configProblems(c: TrainConfig, cfg: ModelConfig): string[] {
  const p: string[] = [];
  if (!isNum(c.learning_rate, Number.MIN_VALUE, 1)) p.push(`learning rate must be above 0 and at most 1 (got ${c.learning_rate})`);
  if (!['cosine', 'linear', 'constant'].includes(c.lr_scheduler_type)) p.push(`schedule must be cosine, linear or constant (got ${c.lr_scheduler_type})`);
  if (!isNum(c.min_lr_rate, 0, 1)) p.push(`the final learning rate must be from 0 to 1 times the peak (got ${c.min_lr_rate})`);
  if (c.max_steps !== -1 && !isInt(c.max_steps, 1, 10_000_000)) p.push(`steps must be a whole number of at least 1 (got ${c.max_steps})`);
  if (c.max_steps === -1 && !isInt(c.num_train_epochs, 1, 100_000)) p.push(`epochs must be a whole number of at least 1 (got ${c.num_train_epochs})`);
  if (!isInt(c.per_device_train_batch_size, 1, 512)) p.push(`batch size must be a whole number from 1 to 512 (got ${c.per_device_train_batch_size})`);
  if (!isInt(c.gradient_accumulation_steps, 1, 1024)) {
    p.push(`gradient accumulation must be a whole number from 1 to 1024 (got ${c.gradient_accumulation_steps})`);
  }
  if (!isInt(c.max_length, 8, cfg.maxPositions)) {
    p.push(`max sequence length must be a whole number from 8 to ${cfg.maxPositions}, the model's limit (got ${c.max_length})`);
  }
  if (!isInt(c.warmup_steps, 0)) p.push(`warm-up must be a whole number of steps, 0 or more (got ${c.warmup_steps})`);
  if (!isNum(c.weight_decay, 0, 10)) p.push(`weight decay must be from 0 to 10 (got ${c.weight_decay})`);
  if (!isInt(c.seed, 0, 2 ** 32 - 1)) p.push(`seed must be a whole number from 0 to 4294967295 (got ${c.seed})`);
  if (!isNum(c.max_grad_norm, 0)) p.push(`gradient clipping must be 0 (off) or a positive norm (got ${c.max_grad_norm})`);
  if (!isInt(c.eval_steps, 1)) p.push(`evaluate every must be a whole number of steps, at least 1 (got ${c.eval_steps})`);
  if (!isInt(c.early_stopping_patience, 0)) p.push(`early stopping patience must be a whole number of evaluations, 0 (off) or more (got ${c.early_stopping_patience})`);
  if (!isNum(c.adam_beta1, 0) || c.adam_beta1 >= 1 || !isNum(c.adam_beta2, 0) || c.adam_beta2 >= 1) p.push('AdamW betas must be at least 0 and below 1');
  if (!isNum(c.adam_epsilon, Number.MIN_VALUE)) p.push('AdamW epsilon must be above 0');
  return p;
}

/** Every problem with an objective's settings (TRL's ranges: β > 0, robust DPO's ε in [0, 0.5)). */
export function objectiveProblems(o: ObjectiveConfig): string[] {
  const p: string[] = [];
  if (!OBJECTIVE_TYPES.includes(o.type)) return [`the objective must be one of ${OBJECTIVE_TYPES.join(', ')} (got ${String(o.type)})`];
  if (o.type === 'sft') return p;
  if (o.type === 'reward') {
    if (!isNum(o.margin, 0, 1000)) p.push(`the reward model's margin must be from 0 to 1000 (got ${o.margin})`);
    return p;
  }
  const name = o.type === 'dpo' ? 'DPO' : o.type === 'simpo' ? 'SimPO' : 'ORPO';
  if (!isNum(o.beta, Number.MIN_VALUE, 1000)) p.push(`${name}'s beta must be above 0 and at most 1000 (got ${o.beta})`);
  if (o.type === 'dpo') {
    if (!DPO_LOSS_TYPES.includes(o.loss_type)) p.push(`DPO's loss type must be ${DPO_LOSS_TYPES.join(', ')} (got ${String(o.loss_type)})`);
    if (!isNum(o.label_smoothing, 0) || o.label_smoothing >= 0.5) {
      p.push(`label smoothing is the share of flipped labels: at least 0 and below 0.5 (got ${o.label_smoothing})`);
    } else if (o.label_smoothing > 0 && o.loss_type !== 'robust') {
      p.push(`label smoothing changes only the robust loss: use loss type robust, or label smoothing 0 (got ${o.label_smoothing} with ${o.loss_type})`);
    }
  }
  if (o.type === 'simpo' && !isNum(o.simpo_gamma, 0, 1000)) p.push(`SimPO's gamma (the reward margin) must be from 0 to 1000 (got ${o.simpo_gamma})`);
  return p;
}
