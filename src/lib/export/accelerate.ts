// Accelerate's side of an exported run: the config files `accelerate config` writes (the same keys
// and values as its questionnaire, and as the ones TRL ships in trl/accelerate_configs/), one per way
// of running: one GPU, several GPUs with data parallelism (DDP), with sharded parameters (FSDP), or
// with DeepSpeed ZeRO stage 2 (sharded optimizer state and gradients).
// `accelerate launch --config_file accelerate/<name>.yaml …` reads one.

import type { YamlMap } from './yaml.ts';

export const ACCELERATE_DIR = 'accelerate';

export interface AccelerateSetup {
  /** file name under accelerate/ */
  file: string;
  /** what it is, in a few words */
  title: string;
  values: YamlMap;
  /** processes (GPUs) it starts */
  processes: number;
}

/** What every file holds: one machine, all its GPUs, bf16 mixed precision (SFTConfig's default too). */
function common(distributed: 'NO' | 'MULTI_GPU' | 'FSDP' | 'DEEPSPEED', processes: number, extra: YamlMap = {}): YamlMap {
  return {
    compute_environment: 'LOCAL_MACHINE',
    debug: false,
    distributed_type: distributed,
    ...extra,
    downcast_bf16: 'no',
    gpu_ids: 'all',
    machine_rank: 0,
    main_training_function: 'main',
    mixed_precision: 'bf16',
    num_machines: 1,
    num_processes: processes,
    rdzv_backend: 'static',
    same_network: true,
    tpu_env: [],
    tpu_use_cluster: false,
    tpu_use_sudo: false,
    use_cpu: false,
  };
}

/** The four setups, the multi-GPU ones starting `gpus` processes. */
export function accelerateSetups(gpus: number): AccelerateSetup[] {
  return [
    { file: 'single_gpu.yaml', title: 'one GPU', processes: 1, values: common('NO', 1) },
    { file: 'ddp.yaml', title: 'data parallel (DDP): a copy of the model on each GPU', processes: gpus, values: common('MULTI_GPU', gpus) },
    {
      file: 'fsdp.yaml',
      title: 'FSDP: parameters, gradients and optimizer state sharded over the GPUs (FSDP2, Accelerate 1.7 or newer)',
      processes: gpus,
      values: common('FSDP', gpus, {
        fsdp_config: {
          fsdp_activation_checkpointing: false,
          fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
          fsdp_cpu_ram_efficient_loading: true,
          fsdp_offload_params: false,
          fsdp_reshard_after_forward: true,
          fsdp_state_dict_type: 'FULL_STATE_DICT',
          fsdp_version: 2,
        },
      }),
    },
    {
      file: 'zero2.yaml',
      title: 'DeepSpeed ZeRO stage 2: optimizer state and gradients sharded over the GPUs (needs `pip install deepspeed`)',
      processes: gpus,
      values: common('DEEPSPEED', gpus, {
        deepspeed_config: {
          deepspeed_multinode_launcher: 'standard',
          offload_optimizer_device: 'none',
          offload_param_device: 'none',
          zero3_init_flag: false,
          zero_stage: 2,
        },
      }),
    },
  ];
}
