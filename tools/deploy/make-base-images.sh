#!/usr/bin/env bash
# Makes the two base images deploy/Dockerfile starts from, locally, with debootstrap (no registry
# is reachable here): `debian:bookworm` (the build stage) and `debian:bookworm-slim` (the runtime
# stage, trimmed like Docker's official slim image: no docs, man pages or locales).
#
# Usage: bash tools/deploy/make-base-images.sh     (with tools/deploy/podman-env.sh's environment;
#        tools/deploy/test-image.sh calls it). Needs root, debootstrap and podman.
#   SHOAL_DEBIAN_MIRROR  mirror for debootstrap (default http://deb.debian.org/debian)
#   SHOAL_BASE_CACHE     where the debootstrapped tarballs are kept between runs
#                        (default ~/.cache/shoal/base; delete it to re-bootstrap)
set -euo pipefail

mirror=${SHOAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${SHOAL_BASE_CACHE:-$HOME/.cache/shoal/base}
mkdir -p "$cache"

make_tarballs() {
  local root
  root=$(mktemp -d /tmp/shoal-rootfs.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  echo "make-base-images: debootstrap --variant=minbase bookworm ($mirror)" >&2
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2
    return 1
  }
  # The same apt sources as the official images (with security updates), and no package lists.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # As in the official images: apt keeps no downloaded .debs, installs no recommends by default
  # is left to each Dockerfile (--no-install-recommends).
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/*
  tar -C "$root" --numeric-owner -cf "$cache/bookworm.tar" .

  # Slim: what Docker's debian:bookworm-slim drops, and a dpkg filter so later installs drop it too.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CONF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/linda/* "$root"/usr/share/locale/*
  tar -C "$root" --numeric-owner -cf "$cache/bookworm-slim.tar" .
}

if [ ! -s "$cache/bookworm.tar" ] || [ ! -s "$cache/bookworm-slim.tar" ]; then
  make_tarballs
fi

import() {  # import TARBALL TAG
  if podman image exists "$2"; then return 0; fi
  echo "make-base-images: importing $2" >&2
  podman import --change 'CMD ["bash"]' "$1" "$2" >/dev/null
}
import "$cache/bookworm.tar" debian:bookworm
import "$cache/bookworm-slim.tar" debian:bookworm-slim
# Fully qualified names too, as a registry pull would have stored them.
podman tag debian:bookworm docker.io/library/debian:bookworm
podman tag debian:bookworm-slim docker.io/library/debian:bookworm-slim
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'debian:bookworm' >&2
