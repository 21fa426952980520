#!/usr/bin/env bash
# The fault-injection suite (test/faults, issue 10): set-up (idempotent; installs faketime
# among the system packages), build, then the fault tests, two files at a time. Needs
# root (tmpfs mount, the agents' lease and tool faults). Ends with the fault table of
# test/faults/faultReporter.js and its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
exec npx jest --ci --maxWorkers=2 "$@" --selectProjects faults
