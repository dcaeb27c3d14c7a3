#!/usr/bin/env bash
# Installs everything, builds a release and starts the demo: 10 simulated meters, a connector
# and a server on loopback. Prints the URL and the first-login credentials; Ctrl-C stops it.
# Extra arguments go to wattline-demo (see build/release/apps/wattline-demo --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== building (release)"
cmake --preset release >/dev/null
cmake --build --preset release
echo "== building the web app"
(cd web && npm run build >/dev/null)
exec build/release/apps/wattline-demo --web_root web/dist --profiles_dir profiles --data_dir demo-data "$@"
