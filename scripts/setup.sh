#!/usr/bin/env bash
# One-time set-up of a Debian 12 machine with Node 20 for ovirt-sysprep: installs the
# system packages it needs (only those missing), the npm dependencies, and builds.
# Usage: scripts/setup.sh [--with-browser]   (--with-browser: Chromium for the UI tests)
set -euo pipefail
cd "$(dirname "$0")/.."

# libvirt-*: the libvirt inventory's tests run a real libvirtd (test/helpers/libvirtd.ts starts it
# without systemd); its own package defines a "default" network, left inactive.
packages=(libguestfs-tools qemu-utils qemu-system-x86 linux-image-amd64 busybox-static openssl procps util-linux faketime libvirt-daemon-system libvirt-clients
  libhivex-bin libwin-hivex-perl ntfs-3g  # hivex tools and NTFS: the phony Windows image (test/helpers/windowsImage.ts)
  postgresql libpq-dev build-essential python3)  # the PostgreSQL store: a server for its tests, libpq for pg-native (built by node-gyp)
[[ "${1:-}" == "--with-browser" ]] && packages+=(chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm dependencies: install when missing or when the lock file changed since.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm dependencies" >&2
  # npm install, not npm ci: this npm drops other platforms' optional packages from the lock
  # file (e.g. @swc/core-darwin-*), which npm ci then refuses as out of sync.
  npm install --no-audit --no-fund --loglevel=error
fi

npm run --silent build
