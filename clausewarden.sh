#!/usr/bin/env bash
# Runs the `clausewarden` command from this checkout, installing it into .venv/ first if needed.
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
bash "$root/scripts/setup"
exec "$root/.venv/bin/clausewarden" "$@"
