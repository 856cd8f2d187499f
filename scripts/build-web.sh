#!/usr/bin/env bash
# build-web.sh builds the browser console (web/src and the npm packages pinned in
# web/package-lock.json) into web/dist, which the Go package web embeds: build it before
# `go build` for a binary that serves the console.
set -euo pipefail
cd "$(dirname "$0")/../web"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-web: $tool is not installed" >&2
    echo "build-web: hint: on Debian, apt-get install nodejs npm (or run make setup)" >&2
    exit 1
  fi
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "build-web: node 18 or newer is needed (esbuild 0.28), this is $(node --version)" >&2
  exit 1
fi

# npm ci deletes and reinstalls node_modules every time; skip it while what is installed came
# from this very lock file, so that a build works offline once the packages are there.
stamp=node_modules/.buktu-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # --ignore-scripts: esbuild finds its binary in its per-platform package without its
  # postinstall step, and no package gets to run code at install time.
  npm ci --no-audit --no-fund --prefer-offline --ignore-scripts
  echo "$want" >"$stamp"
fi

node build.mjs
