#!/usr/bin/env bash
# Installs what the image check needs from Debian's packages, once: buildah (build), podman and
# runc (run; crun 1.8 refuses this kind of host's hybrid cgroups), debootstrap (the stand-in base).
set -euo pipefail
needed=(buildah podman runc debootstrap)
missing=()
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "$(id -u)" != 0 ]]; then
  echo "image check: needs root to install ${missing[*]} (sudo apt-get install ${needed[*]}) and to run rootful podman" >&2
  exit 1
fi
echo "image check: installing ${needed[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
