#!/usr/bin/env bash
# Resident memory of pol-lsp across large edits: a MEGABYTES didChange, then reverted to 54 bytes,
# ROUNDS times; prints VmRSS at the start, after each large edit and after each revert, and the
# peak (VmHWM), read from /proc/PID/status.
#   lsp/bench/memory.sh [MEGABYTES] [ROUNDS] [PROFILE]   (defaults: 23, 5, release)
set -euo pipefail
cd "$(dirname "$0")/../.."
MEGABYTES="${1:-23}"
ROUNDS="${2:-5}"
PROFILE="${3:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release -q -p pol-lsp --bin pol-lsp --example memory
  DIR=target/release
else
  cargo build -q -p pol-lsp --bin pol-lsp --example memory
  DIR=target/debug
fi
"$DIR/examples/memory" "$DIR/pol-lsp" "$MEGABYTES" "$ROUNDS"
