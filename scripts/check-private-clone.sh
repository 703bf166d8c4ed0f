#!/usr/bin/env bash
# check-private-clone.sh: the README commands must work from a clone the
# server's user cannot read (such as one in /root). Copies the tree into a
# directory only root may enter and runs one pg_regress test from there.
# Needs root (as the README commands) and lhv installed (scripts/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "check-private-clone: skipped (needs root, as the README commands)"
  exit 0
fi
private=$(mktemp -d /tmp/lhv-private.XXXXXX)
trap 'rm -rf "$private"' EXIT
chmod 700 "$private"
cp -r "$root/scripts" "$root/sql" "$root/expected" "$root/Makefile" "$root/lhv.control" "$private/"
if runuser -u postgres -- test -r "$private/Makefile"; then
  echo "check-private-clone: postgres can read $private; the check would prove nothing" >&2
  exit 1
fi
bash "$private/scripts/regress.sh" init
