#!/usr/bin/env bash
# The suite in two passes (make test): first every test that does not measure time, in
# parallel workers (pytest-xdist, one per core, whole files per worker so a module's
# running system is started once); then the tests marked `serial` — first-screen budgets,
# latency under a flood, load shedding — alone, so another worker's load cannot move
# their figures. Arguments go to both passes (paths, -k, -x…).
set -uo pipefail
BIN=${BIN:-.venv/bin}
WORKERS=${TEST_WORKERS:-auto}

"$BIN/pytest" -m "not bench and not serial" -n "$WORKERS" --dist loadfile "$@"
parallel=$?
"$BIN/pytest" -m "serial and not bench" "$@"
serial=$?

# 5 = no test selected: a pass that found none of its kind among the given paths is fine,
# unless neither pass found anything.
if [ "$parallel" -eq 5 ] && [ "$serial" -eq 5 ]; then exit 5; fi
[ "$parallel" -eq 5 ] && parallel=0
[ "$serial" -eq 5 ] && serial=0
[ "$parallel" -ne 0 ] && exit "$parallel"
exit "$serial"
