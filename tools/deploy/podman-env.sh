#!/usr/bin/env bash
# Sourced by the deploy scripts: points podman/buildah at a private state directory so nothing
# touches the machine's default container storage, and at runc (crun cannot start containers on
# this machine's hybrid cgroups).
#
#   SHOAL_PODMAN_DIR  where storage and config live (default: a fresh mktemp -d, removed by
#                     shoal_podman_cleanup); set it to keep base images and layers between runs.
#
# Defines: shoal_podman_setup, shoal_podman_cleanup. Exports CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF.

shoal_podman_setup() {
  if [ -n "${SHOAL_PODMAN_DIR:-}" ]; then
    SHOAL_PODMAN_KEEP=1
    mkdir -p "$SHOAL_PODMAN_DIR"
  else
    SHOAL_PODMAN_KEEP=0
    SHOAL_PODMAN_DIR=$(mktemp -d /tmp/shoal-podman.XXXXXX)
  fi
  SHOAL_PODMAN_DIR=$(cd "$SHOAL_PODMAN_DIR" && pwd)
  export SHOAL_PODMAN_DIR SHOAL_PODMAN_KEEP
  mkdir -p "$SHOAL_PODMAN_DIR/graph" "$SHOAL_PODMAN_DIR/run" "$SHOAL_PODMAN_DIR/tmp"

  local driver=${SHOAL_PODMAN_DRIVER:-overlay}
  cat >"$SHOAL_PODMAN_DIR/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$SHOAL_PODMAN_DIR/graph"
runroot = "$SHOAL_PODMAN_DIR/run"
CONF
  # The machine's hard nofile limit is 20000: containers cannot be given more.
  cat >"$SHOAL_PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
events_logger = "file"
cgroup_manager = "cgroupfs"
image_copy_tmp_dir = "$SHOAL_PODMAN_DIR/tmp"
tmp_dir = "$SHOAL_PODMAN_DIR/tmp"
CONF
  # No registry is reachable: never try one (every image used here is local).
  cat >"$SHOAL_PODMAN_DIR/registries.conf" <<CONF
unqualified-search-registries = []
short-name-mode = "disabled"
CONF
  export CONTAINERS_CONF="$SHOAL_PODMAN_DIR/containers.conf"
  export CONTAINERS_STORAGE_CONF="$SHOAL_PODMAN_DIR/storage.conf"
  export CONTAINERS_REGISTRIES_CONF="$SHOAL_PODMAN_DIR/registries.conf"
  export TMPDIR="$SHOAL_PODMAN_DIR/tmp"
}

# Removes everything shoal_podman_setup made, unless SHOAL_PODMAN_DIR was given by the caller.
shoal_podman_cleanup() {
  [ -n "${SHOAL_PODMAN_DIR:-}" ] || return 0
  if [ "${SHOAL_PODMAN_KEEP:-0}" = 1 ]; then
    echo "podman state kept in $SHOAL_PODMAN_DIR (remove with: bash tools/deploy/podman-clean.sh $SHOAL_PODMAN_DIR)" >&2
    return 0
  fi
  podman system reset --force >/dev/null 2>&1 || true
  # Overlay mounts may outlive the reset on failures: unmount what is left before removing.
  grep -F "$SHOAL_PODMAN_DIR" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done || true
  rm -rf "$SHOAL_PODMAN_DIR"
}
