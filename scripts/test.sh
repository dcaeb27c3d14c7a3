#!/usr/bin/env bash
# Installs everything, builds with AddressSanitizer and UBSan, builds the web app and runs every
# test: unit, fuzz corpora, interoperability (pymodbus, mbpoll), integration and browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
echo "== building (asan preset: Debug, AddressSanitizer + UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan
echo "== building the web app"
(cd web && npm run build >/dev/null)
echo "== running the tests"
ctest --preset asan
