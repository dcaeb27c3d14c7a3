#!/usr/bin/env bash
# Installs what Wattline needs to build, run and test, from Debian 12's own packages and the npm
# registry only. Idempotent: installs only what is missing. Run as root (or with sudo).
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --test     also the test peers (pymodbus, mbpoll, chromium, testssl.sh, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config git ca-certificates python3
  libboost-dev libboost-system-dev libssl-dev libsqlite3-dev nlohmann-json3-dev libpugixml-dev
  libspdlog-dev libfmt-dev libzstd-dev libsodium-dev libtomlplusplus-dev libexpected-dev libmodbus-dev
  libgtest-dev libgmock-dev libhowardhinnant-date-dev tzdata liboath-dev libqrencode-dev
  libxlsxwriter-dev zlib1g-dev libhpdf-dev  # xlsxwriter.pc links -lz, its -dev does not pull zlib1g-dev
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3-pymodbus python3-serial python3-serial-asyncio socat mbpoll chromium
             fonts-dejavu-core clang-format iproute2 oathtool python3-openpyxl poppler-utils
             testssl.sh)
fi
# Node.js and npm: Debian's own (Node 18) unless a node with npm is already installed.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "== Debian packages: all present"
fi

# The browser app's packages, exactly as locked. Skipped when node_modules matches the lock.
if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  echo "== installing the web app's npm packages"
  # npm 10+ refuses `npm ci` when the lock lacks optional platform packages that the registry
  # does not serve (rollup's builds for other systems); `npm install --no-save` then installs
  # the same locked versions without touching package-lock.json.
  (cd web && { npm ci --no-audit --no-fund ||
    { echo "== npm ci refused the lock file; installing the locked versions with npm install --no-save";
      npm install --no-save --no-audit --no-fund; }; })
else
  echo "== npm packages: up to date"
fi
