#!/usr/bin/env python3
"""Checks a run exported for TRL and Accelerate (lora-playground export-run, or the page's button) the
way those tools will read it: every YAML file with PyYAML's safe_load (the parser `trl sft --config`
and `accelerate launch --config_file` use), every JSON Lines file with json.

    python3 tests/python/check_trl_export.py RUN.zip --expect expected.json
    python3 tests/python/check_trl_export.py --roundtrip cases.json

RUN.zip must hold a README.md naming every file, an sft.yaml whose keys are fields of TRL's
ScriptArguments, ModelConfig and SFTConfig/TrainingArguments (tests/fixtures/trl-flags.json), data
files in TRL's dataset formats under the folder dataset_name names (train.jsonl, and valid.jsonl when
dataset_test_split is "validation"), and Accelerate configs whose keys Accelerate's config file has.
With --expect (JSON: {"files": [...], "yaml": {name: value}, "jsonl": {name: [record, ...]}}), every
YAML file must read back as exactly that value (types too: 1 is not 1.0, "no" is not False) and every
JSONL file as exactly those records. --roundtrip reads [{"yaml": text, "value": value}, ...] and checks
each text reads back as its value. Prints one JSON line; exit status 0 when everything holds.
Needs only python3-yaml.
"""
import argparse
import json
import os
import posixpath
import sys
import zipfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
FLAGS = os.path.join(HERE, '..', 'fixtures', 'trl-flags.json')

# The dataset formats TRL reads (https://huggingface.co/docs/trl/dataset_formats), by their keys.
FORMATS = [{'text'}, {'prompt', 'completion'}, {'messages'}, {'prompt', 'chosen', 'rejected'}, {'chosen', 'rejected'}]


def same(a, b, path='$'):
    """None when a and b are equal with the same types all the way down, else where they differ."""
    if type(a) is not type(b):
        return f'{path}: {type(a).__name__} {a!r} is not {type(b).__name__} {b!r}'
    if isinstance(a, dict):
        if list(a) != list(b):
            return f'{path}: keys {list(a)} are not {list(b)}'
        for k in a:
            d = same(a[k], b[k], f'{path}.{k}')
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f'{path}: {len(a)} items, not {len(b)}'
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f'{path}[{i}]')
            if d:
                return d
        return None
    return None if a == b else f'{path}: {a!r} is not {b!r}'


def check_record(record, where, problems):
    if not isinstance(record, dict) or set(record) not in FORMATS:
        problems.append(f'{where}: {record!r} is in none of TRL\'s dataset formats')
        return
    for key, value in record.items():
        if isinstance(value, str):
            continue
        if key in ('messages', 'prompt', 'chosen', 'rejected') and isinstance(value, list) and all(
                isinstance(m, dict) and set(m) == {'role', 'content'} and isinstance(m['content'], str) for m in value):
            continue
        problems.append(f'{where}: field {key!r} must be a string or a list of {{role, content}} messages')


def check_zip(path, expect):
    flags = json.load(open(FLAGS))
    sft_names = {n for group in flags['sft'].values() for n in group}
    acc = flags['accelerate']
    problems = []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        files = {n: z.read(n) for n in names}
    text = {n: b.decode('utf-8') for n, b in files.items()}
    if expect is not None and sorted(names) != sorted(expect['files']):
        problems.append(f'the zip holds {sorted(names)}, not {sorted(expect["files"])}')

    loaded = {}
    for name in names:
        if name.endswith('.yaml'):
            try:
                loaded[name] = yaml.safe_load(text[name])
            except yaml.YAMLError as e:
                problems.append(f'{name} is not YAML: {e}')
                continue
            if not isinstance(loaded[name], dict):
                problems.append(f'{name} is not a map')
    if expect is not None:
        for name, value in expect['yaml'].items():
            if name not in loaded:
                problems.append(f'{name} is missing or did not parse')
                continue
            d = same(loaded[name], value)
            if d:
                problems.append(f'{name} reads back differently: {d}')

    sft = loaded.get('sft.yaml')
    if not isinstance(sft, dict):
        problems.append('sft.yaml is missing')
        sft = {}
    unknown = sorted(set(sft) - sft_names)
    if unknown:
        problems.append(f'sft.yaml: {unknown} are not fields of TRL\'s ScriptArguments, ModelConfig or SFTConfig')
    if 'lr_scheduler_type' in sft and sft['lr_scheduler_type'] not in flags['lr_scheduler_type']:
        problems.append(f'sft.yaml: lr_scheduler_type {sft["lr_scheduler_type"]!r} is not one of Transformers\' schedules')
    if 'optim' in sft and sft['optim'] not in flags['optim']:
        problems.append(f'sft.yaml: optim {sft["optim"]!r} is not a Transformers optimizer name')
    for key, kind in [('learning_rate', float), ('max_length', int), ('per_device_train_batch_size', int),
                      ('gradient_accumulation_steps', int), ('seed', int), ('lora_r', int)]:
        if key in sft and not isinstance(sft[key], kind):
            problems.append(f'sft.yaml: {key} must read as {kind.__name__}, got {sft[key]!r}')
    for key in ['use_peft', 'packing', 'completion_only_loss', 'assistant_only_loss', 'use_rslora']:
        if key in sft and not isinstance(sft[key], bool):
            problems.append(f'sft.yaml: {key} must read as a boolean, got {sft[key]!r}')
    if sft.get('eval_strategy') not in (None, 'no', 'steps', 'epoch'):
        problems.append(f'sft.yaml: eval_strategy {sft.get("eval_strategy")!r} is not no, steps or epoch')

    # The data: dataset_name is a folder of the zip; datasets names its splits from the file names.
    folder = posixpath.normpath(str(sft.get('dataset_name', '')))
    split_files = {'train': f'{folder}/train.jsonl', 'validation': f'{folder}/valid.jsonl'}
    wanted = [sft.get('dataset_train_split', 'train')] + ([sft['dataset_test_split']] if sft.get('eval_strategy', 'no') != 'no' else [])
    for split in wanted:
        if split not in split_files or split_files[split] not in files:
            problems.append(f'sft.yaml asks for the split {split!r}, but {folder}/ has no file datasets names so')
    data_files = [n for n in names if n.startswith(folder + '/')]
    if sorted(data_files) != sorted(split_files[s] for s in wanted if s in split_files):
        problems.append(f'{folder}/ holds {data_files}: datasets would read every data file there')
    for name in names:
        if not name.endswith('.jsonl'):
            continue
        records = []
        for i, line in enumerate(text[name].split('\n')[:-1], 1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                problems.append(f'{name}, line {i}: not JSON ({e})')
                continue
            check_record(records[-1], f'{name}, line {i}', problems)
        if not text[name].endswith('\n'):
            problems.append(f'{name} does not end with a newline')
        if len({frozenset(r) for r in records if isinstance(r, dict)}) > 1:
            problems.append(f'{name} mixes dataset formats')
        if expect is not None and name in expect['jsonl']:
            d = same(records, expect['jsonl'][name])
            if d:
                problems.append(f'{name} reads back differently: {d}')

    for name, cfg in loaded.items():
        if not name.startswith('accelerate/') or not isinstance(cfg, dict):
            continue
        for key, allowed in [('$', acc['top']), ('fsdp_config', acc['fsdp_config']), ('deepspeed_config', acc['deepspeed_config'])]:
            part = cfg if key == '$' else cfg.get(key, {})
            extra = sorted(set(part) - set(allowed))
            if extra:
                problems.append(f'{name}: {extra} are not keys of Accelerate\'s config file')
        if cfg.get('distributed_type') not in acc['distributed_type']:
            problems.append(f'{name}: distributed_type {cfg.get("distributed_type")!r} is not one of Accelerate\'s')
        if cfg.get('mixed_precision') not in acc['mixed_precision']:
            problems.append(f'{name}: mixed_precision {cfg.get("mixed_precision")!r} is not one of Accelerate\'s')
        if not isinstance(cfg.get('num_processes'), int) or cfg['num_processes'] < 1:
            problems.append(f'{name}: num_processes must be a whole number of at least 1')

    if 'peft_config.json' in files:
        peft = json.loads(text['peft_config.json'])
        if peft.get('task_type') != 'CAUSAL_LM' or peft.get('peft_type') not in ('LORA', 'PREFIX_TUNING'):
            problems.append(f'peft_config.json: {peft!r} is not a causal-LM LoRA or prefix-tuning config')
    for name in names:
        if name.endswith('.py'):
            try:
                compile(text[name], name, 'exec')
            except SyntaxError as e:
                problems.append(f'{name} is not valid Python: {e}')

    readme = text.get('README.md', '')
    for name in names:
        if f'`{name}`' not in readme:
            problems.append(f'README.md does not say what {name} is')
    for name in names:
        if name.startswith('accelerate/') and f'--config_file {name}' not in readme:
            problems.append(f'README.md has no command for {name}')

    return {'check': 'trl-export', 'files': len(names), 'yaml': sorted(loaded), 'problems': problems}


def check_roundtrip(path):
    problems = []
    cases = json.load(open(path))
    for i, case in enumerate(cases):
        try:
            value = yaml.safe_load(case['yaml'])
        except yaml.YAMLError as e:
            problems.append(f'case {i}: not YAML ({e})')
            continue
        d = same(value, case['value'])
        if d:
            problems.append(f'case {i}: {d}')
    return {'check': 'yaml-roundtrip', 'cases': len(cases), 'problems': problems}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('zip', nargs='?')
    ap.add_argument('--expect')
    ap.add_argument('--roundtrip')
    args = ap.parse_args()
    if args.roundtrip:
        result = check_roundtrip(args.roundtrip)
    elif args.zip:
        result = check_zip(args.zip, json.load(open(args.expect)) if args.expect else None)
    else:
        ap.error('give RUN.zip or --roundtrip FILE')
    print(json.dumps(result))
    return 0 if not result['problems'] else 1


if __name__ == '__main__':
    sys.exit(main())
