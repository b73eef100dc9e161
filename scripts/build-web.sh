#!/usr/bin/env bash
# Build each web app (npm ci from its committed lock file, then vite build), skipping
# one whose sources, lock file, dist and the TypeScript the apps share (shared/web) are
# unchanged since its last build. Each build is precompressed (.gz and .br beside each file).
set -euo pipefail
command -v npm >/dev/null 2>&1 || {
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "build-web: Node.js and npm are required" >&2; exit 1
  fi
}
for app in "$@"; do
  app=${app%/}
  stamp="$app/dist/.build-stamp"
  sum=$( (cd "$app" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print0 \
          | sort -z | xargs -0 sha256sum; cd - >/dev/null && find shared/web scripts/precompress.mjs -type f -print0 \
          | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    echo "build-web: $app is up to date"; continue
  fi
  echo "build-web: building $app"
  (cd "$app" && npm ci --no-audit --no-fund --loglevel=error && npm run build)
  node scripts/precompress.mjs "$app/dist"
  echo "$sum" > "$stamp"
done
