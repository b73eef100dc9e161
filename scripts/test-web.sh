#!/usr/bin/env bash
# Run each web app's own unit tests (Vitest), where it has a `test` script.
set -euo pipefail
for app in "$@"; do
  app=${app%/}
  if node -e "process.exit(require('./$app/package.json').scripts?.test ? 0 : 1)"; then
    echo "test-web: $app"
    (cd "$app" && npm test --silent)
  fi
done
