#!/usr/bin/env bash
# The test command of README and CI: set-up (idempotent), build, then the unit and e2e
# tests, and the engine's tests once more on PostgreSQL (jest project engine-pg). The
# fault-injection suite runs apart (npm run test:faults, scripts/test-faults.sh).
# Real virt-sysprep runs use libguestfs's direct backend; the agent itself picks
# KVM or TCG, the test helpers use TCG (KVM launches fail on the CI machines).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
exec npx jest --ci --maxWorkers=2 "$@" --selectProjects unit engine-pg e2e
