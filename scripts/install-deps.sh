#!/usr/bin/env bash
# Installs everything convex-importd needs to build and test, from Debian's packages and npm.
# Safe to run again: apt-get and npm ci skip what is already in place.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
    build-essential cmake ccache pkg-config git
    libboost1.81-dev libssl-dev ca-certificates
    libsimdjson-dev libspdlog-dev libconcurrentqueue-dev doctest-dev
    libcli11-dev libtomlplusplus-dev libsqlite3-dev libutf8proc-dev libsystemd-dev
    clang libclang-rt-14-dev
    nodejs npm openssl time
    systemd logrotate dpkg-dev file
)

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$package")
done

# Node may come from outside Debian (the machines ship Node 20); keep it when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}")
    missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

if [ -f "$here/tests/convex-backend/package-lock.json" ]; then
    (cd "$here/tests/convex-backend" && npm ci --no-audit --no-fund --loglevel=error)
fi
