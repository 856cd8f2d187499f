#!/usr/bin/env bash
# fuzz.sh runs every fuzz target in the module for the given time (default 15s) each.
set -euo pipefail
t=${1:-15s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u | while read -r dir; do
  for target in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
    echo "fuzz ./$dir $target"
    go test -tags "${GOTAGS-turbojpeg}" -run=NONE -fuzz="^${target}\$" -fuzztime="$t" -fuzzminimizetime=2s "./$dir"
  done
done
