#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Fails when a tracked C file differs from what clang-format makes of it (.clang-format).
set -eu
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format is not installed"; exit 1; }
status=0
for f in $(git ls-files '*.c' '*.h' | grep -v '^tests/fuzz/corpus/'); do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    status=1
  fi
done
exit $status
