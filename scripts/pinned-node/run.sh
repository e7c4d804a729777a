#!/usr/bin/env bash
# Runs a command on the Node version the image ships (.node-version, the Dockerfile's base):
#
#   bash scripts/pinned-node/run.sh npm test          # npm run test:pinned-node
#   bash scripts/pinned-node/run.sh npm run bench     # npm run bench:pinned-node
#   bash scripts/pinned-node/run.sh --print-dir       # fetch only; print the folder holding bin/node
#
# The official binary comes from the npm registry's node-linux-<arch> package (npm verifies its
# integrity), is kept in .cache/node/<version>/, and goes first on PATH, so npm, tsc, jest and every
# child process run on it. npm itself is the machine's (the package ships node alone).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(tr -d '[:space:]' <"$repo/.node-version")"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "pinned-node: no official node-linux package for $(uname -m)" >&2; exit 2 ;;
esac
dir="$repo/.cache/node/$version-linux-$arch"

if [[ ! -x "$dir/bin/node" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "pinned-node: fetching node-linux-$arch@$version from the npm registry" >&2
  (cd "$work" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  tar -xzf "$work"/node-linux-*.tgz -C "$work"
  actual="$("$work/package/bin/node" --version)"
  if [[ "$actual" != "v$version" ]]; then
    echo "pinned-node: node-linux-$arch@$version holds node $actual" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$work/package" "$dir"
fi

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "$dir"
  exit 0
fi
if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command> [args...] | --print-dir" >&2
  exit 2
fi
export PATH="$dir/bin:$PATH"
exec "$@"
