#!/usr/bin/env bash
# Rebuilds the default model and every reference fixture from the Brown corpus (CPU, ~60-90 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}   # Debian's python3 with python3-torch, python3-onnx, python3-regex
STEPS=${STEPS:-1000}
$PY prepare.py                   # tokenizer + token streams
$PY pretrain.py --steps "$STEPS" # work/ckpt.pt, work/train_log.json
$PY export.py                    # config, safetensors, onnx/model.onnx
$PY fixtures.py                  # tests/fixtures/*
$PY card.py                      # models/brown-llama-4m/README.md
$PY heldout.py                   # static/corpus/brown-heldout.txt (the samples kept out of training)
