#!/usr/bin/env bash
# llama.cpp's llama-server for the augment integration test.
#
#   scripts/llama-server.sh [install]   install (once) and print the binary's path
#   scripts/llama-server.sh path        print the binary's path; exit 1 if not installed
#   scripts/llama-server.sh start MODEL.gguf [llama-server options...]
#                                       start it on 127.0.0.1 on a free port, wait
#                                       until /v1/models answers, print
#                                       LLAMA_URL=... and LLAMA_PID=... and leave it running
#
# The source is the llama.cpp release bundled in the npm package
# node-llama-cpp (llama/gitRelease.bundle, a git bundle), installed with npm
# into the cache; llama-server is built from it with Debian's cmake as one
# static binary. No weights and no prebuilt binary are downloaded. Everything
# lives under LLAMA_CACHE (default: .cache/llama in the repository,
# git-ignored); a second install is instant. LLAMA_JOBS sets the build's
# parallelism (default: the number of CPUs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LLAMA_CACHE:-$ROOT/.cache/llama}
NLC_VERSION=3.21.1 # node-llama-cpp; newer releases' locks may not be served here
BIN=$CACHE/bin/llama-server
STAMP=$CACHE/bin/llama-server.version # the node-llama-cpp version it was built from

die() { echo "llama-server.sh: $*" >&2; exit 1; }

installed() { [[ -x $BIN && $(cat "$STAMP" 2>/dev/null) == "$NLC_VERSION" ]]; }

install() {
  if installed; then
    echo "$BIN"
    return
  fi
  local start=$SECONDS
  mkdir -p "$CACHE"

  if ! command -v cmake >/dev/null; then
    echo "llama-server.sh: installing cmake (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Wait for the dpkg lock rather than fail when another install runs.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq cmake >/dev/null
  fi
  command -v git >/dev/null || die "git is required"
  command -v npm >/dev/null || die "npm is required"

  local npmdir=$CACHE/npm
  local bundle=$npmdir/node_modules/node-llama-cpp/llama/gitRelease.bundle
  if [[ ! -f $bundle ]]; then
    echo "llama-server.sh: npm install node-llama-cpp@$NLC_VERSION" >&2
    mkdir -p "$npmdir"
    [[ -f $npmdir/package.json ]] || echo '{"private": true}' >"$npmdir/package.json"
    # --ignore-scripts: only the source bundle is needed, not the package's
    # postinstall (which would look for or build its own binaries);
    # --omit=optional: skip the prebuilt binaries for every platform.
    npm install --prefix "$npmdir" --save-exact --ignore-scripts --omit=optional \
      --no-audit --no-fund --loglevel=error "node-llama-cpp@$NLC_VERSION" >&2
    [[ -f $bundle ]] || die "node-llama-cpp@$NLC_VERSION has no llama/gitRelease.bundle"
  fi

  local src=$CACHE/src-$NLC_VERSION
  if [[ ! -f $src/CMakeLists.txt ]]; then
    rm -rf "$src" "$src.tmp"
    git -c advice.detachedHead=false clone --quiet "$bundle" "$src.tmp" >&2
    [[ -f $src.tmp/CMakeLists.txt ]] || die "cloning $bundle failed"
    mv "$src.tmp" "$src"
  fi

  local build=$CACHE/build-$NLC_VERSION
  # GGML_NATIVE=OFF: portable code, the binary runs on any x86-64 CI machine.
  # The UI options keep cmake from downloading the prebuilt web UI.
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=ON >"$CACHE/cmake.log" 2>&1 ||
    { tail -30 "$CACHE/cmake.log" >&2; die "cmake configure failed (log: $CACHE/cmake.log)"; }
  echo "llama-server.sh: building llama-server (several minutes; log: $CACHE/build.log)" >&2
  cmake --build "$build" --target llama-server -j "${LLAMA_JOBS:-$(nproc)}" >"$CACHE/build.log" 2>&1 ||
    { tail -30 "$CACHE/build.log" >&2; die "build failed (log: $CACHE/build.log)"; }

  mkdir -p "$CACHE/bin"
  cp "$build/bin/llama-server" "$BIN.tmp"
  mv "$BIN.tmp" "$BIN"
  echo "$NLC_VERSION" >"$STAMP.tmp"
  mv "$STAMP.tmp" "$STAMP"
  echo "llama-server.sh: installed in $((SECONDS - start)) s" >&2
  echo "$BIN"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local model=${1:-}
  [[ -n $model ]] || die "usage: llama-server.sh start MODEL.gguf [options...]"
  [[ -f $model ]] || die "$model: no such file"
  shift
  local bin=${LLAMA_SERVER:-$BIN}
  [[ -x $bin ]] || die "$bin is not installed: run scripts/llama-server.sh install"
  local port log
  port=$(free_port)
  log=${LLAMA_LOG:-$CACHE/server-$port.log}
  mkdir -p "$(dirname "$log")"
  # -t 1 -np 4: one thread per slot, four parallel slots. -l 3..258 -inf:
  # random weights emit lone byte tokens (<0x00>..<0xFF>), whose invalid
  # UTF-8 makes the server answer 500 on longer outputs; 26308 and 30140 are
  # the pieces U+FFFD U+FFFD and U+FFFD, which the answer parser takes for a
  # broken character (HTTP 500 too).
  # --skip-chat-parsing: the answer is all content; otherwise llama.cpp parses
  # it for reasoning and tool calls and answers 500 on some gibberish.
  local bias=()
  for id in $(seq 3 258) 26308 30140; do bias+=(-l "$id-inf"); done
  "$bin" -m "$model" -a "$(basename "$model" .gguf)" --host 127.0.0.1 --port "$port" -t 1 -np 4 -c 8192 \
    --no-webui --skip-chat-parsing "${bias[@]}" "$@" >"$log" 2>&1 &
  local pid=$!
  for ((i = 0; i < 300; i++)); do
    if curl -fsS "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
      echo "LLAMA_URL=http://127.0.0.1:$port/v1"
      echo "LLAMA_PID=$pid"
      return
    fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "llama-server exited (log: $log)"; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "llama-server did not answer on port $port within 30 s (log: $log)"
}

case ${1:-install} in
install) install ;;
path) installed || exit 1; echo "$BIN" ;;
start) shift; start "$@" ;;
*) die "unknown command ${1}; use install, path or start" ;;
esac
