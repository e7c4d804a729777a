#!/usr/bin/env bash
# Prints the name of a local stand-in for the Dockerfile's base (node:<.node-version>-bookworm-slim),
# made only from Debian's and the npm registry's packages, as the official image is laid out:
# Debian bookworm (minbase, with the slim image's docs, man pages, locales and apt lists removed),
# the official Node binary in /usr/local/bin, npm in /usr/local/lib/node_modules, user node 1000:1000.
#
# Cached twice under a key of what made it (this script, the Node and npm versions, the machine):
# the image in podman's storage, and its root filesystem as .cache/image-base/<key>.tar (ignored),
# re-imported when the storage was pruned.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
# The npm the base carries (the official image has the one its Node release bundles; any npm 11
# reads package.json's allowScripts, which is what the build relies on).
npm_version=11.21.3
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

node_version="$(tr -d '[:space:]' <"$repo/.node-version")"
key="$( (cat "$0"; echo "$node_version $npm_version $(uname -m)") | sha256sum | cut -c1-12)"
image="localhost/embedding-service-base:node$node_version-$key"
tarball="$repo/.cache/image-base/$key.tar"

# Only the current base is kept: older ones (another key) go from the storage and the cache folder.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/embedding-service-base); do
  [[ "$old" == "$image" ]] || podman rmi "$old" >/dev/null 2>&1 || true
done
find "$(dirname "$tarball")" -maxdepth 1 -name '*.tar' ! -name "$key.tar" -delete 2>/dev/null || true

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

if [[ ! -f "$tarball" ]]; then
  node_dir="$(bash "$repo/scripts/pinned-node/run.sh" --print-dir)"
  work="$(mktemp -d /var/tmp/image-base.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"
  echo "image base: debootstrap bookworm (minbase) from $mirror" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    exit 1
  }
  # What debian:bookworm-slim leaves out.
  rm -rf "$rootfs"/usr/share/{doc,man,info,locale}/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  # Present, so that the container runtime changes nothing in the image's /etc when it binds its own
  # files over them (empty: debootstrap copied this machine's) or links mtab.
  : >"$rootfs/etc/hosts"
  : >"$rootfs/etc/hostname"
  : >"$rootfs/etc/resolv.conf"
  ln -sf ../proc/self/mounts "$rootfs/etc/mtab"

  install -m 0755 "$node_dir/bin/node" "$rootfs/usr/local/bin/node"
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  echo 'node:x:1000:' >>"$rootfs/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$rootfs/etc/passwd"
  echo 'node:*:20000:0:99999:7:::' >>"$rootfs/etc/shadow"
  install -d -o 1000 -g 1000 "$rootfs/home/node"

  mkdir -p "$(dirname "$tarball")"
  tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi

podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  "$tarball" "$image" >/dev/null
echo "$image"
