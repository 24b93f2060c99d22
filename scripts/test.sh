#!/usr/bin/env bash
# The one test command (README: `npm test`). Sets up what the tests need, then runs every layer.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium: the browser for end-to-end tests and, through its SwiftShader Vulkan driver,
# WebGPU for the GPU tests on machines without a GPU. Never downloaded by a test tool.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
[ -d node_modules ] || npm ci

# numpy for tests/python/check_adapter.py (the independent rebuild of tuned logits from an exported
# adapter), PyYAML for tests/python/check_trl_export.py (reads an exported run's YAML as TRL and
# Accelerate do). Use the first python3 on PATH if it has both, else Debian's python3 with
# python3-numpy and python3-yaml.
if ! python3 -c 'import numpy, yaml' 2>/dev/null; then
  if ! /usr/bin/python3 -c 'import numpy, yaml' 2>/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-numpy python3-yaml
  fi
  mkdir -p node_modules/.python && ln -sf /usr/bin/python3 node_modules/.python/python3
  export PATH="$PWD/node_modules/.python:$PATH"
fi
# regex for models/recipe/bpe.py (GPT-2's splitting pattern), which tests/unit/pretrain-bpe.test.ts runs
# with Debian's python3 to check the page's BPE trainer against the recipe's.
if ! /usr/bin/python3 -c 'import regex' 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-regex
fi

# Dawn (the `webgpu` package) looks for a Vulkan driver; without a GPU, use chromium's SwiftShader
# (VK_ICD_FILENAMES, and LD_LIBRARY_PATH for its Vulkan loader when none is installed). The same rules
# as the command line's launcher: src/lib/gpu/vulkan-env.mjs prints what to export. (The `cli` tests
# run bin/lora-playground.mjs without these variables: it sets them itself.)
vulkan_env="$(node src/lib/gpu/vulkan-env.mjs)" # (a failure stops the script here, under set -e)
eval "$vulkan_env"

npm run build
npx vitest run "$@"
