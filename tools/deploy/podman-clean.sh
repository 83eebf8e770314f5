#!/usr/bin/env bash
# Removes a podman state directory kept with SHOAL_PODMAN_DIR (images, layers, containers).
# Usage: bash tools/deploy/podman-clean.sh DIR
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1/storage.conf" ] || { echo "usage: $0 DIR (a SHOAL_PODMAN_DIR)" >&2; exit 2; }
cd "$(dirname "$0")/../.."
# shellcheck source=tools/deploy/podman-env.sh
source tools/deploy/podman-env.sh
SHOAL_PODMAN_DIR=$1 shoal_podman_setup
SHOAL_PODMAN_KEEP=0 shoal_podman_cleanup
echo "removed $1"
