#!/usr/bin/env bash
# Installs what BIZRA Mesh needs on a fresh Debian machine of this project's kind (Swift 6.3 is
# part of the machine image): the C libraries it links and the tools its tests use.
set -euo pipefail
packages=(libzmq3-dev libsodium-dev liblz4-dev libzstd-dev pkg-config nftables iproute2 python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "note: add /opt/swift/usr/bin to PATH" >&2
    else
        echo "error: Swift 6.3 is not installed (expected on this machine image at /opt/swift)" >&2
        exit 1
    fi
fi
