#!/usr/bin/env bash
# Write or check the Python lock files, both made by uv pip compile from pyproject.toml, every
# distribution pinned with the sha256 of each of its files (installed with --require-hashes):
#
#   requirements.lock             every declared dependency, every extra (make install, CI)
#   requirements-production.lock  the runtime dependencies only, at the same versions (Dockerfile)
#
#   scripts/lock.sh          rewrite both (make lock); pins already there are kept, so a new
#                            dependency is added without upgrading the others;
#                            UPGRADE=--upgrade, or UPGRADE="--upgrade-package django", upgrades
#   scripts/lock.sh --check  exit 1 unless both are exactly what the command above would write
#                            (make check-lock)
#
# The resolution sees only what the package index held at the moment the lock was written
# (--exclude-newer, recorded in the lock's header), so that the check gives the same answer
# tomorrow as today: a release or a wheel uploaded since then changes nothing until the next
# make lock. uv reads the package index as it is configured for uv (by default the public
# index), and it is itself pinned and hashed in requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
UV=${UV:-$ROOT/.venv/bin/uv}
[ -x "$UV" ] || { echo "uv is not installed: run make install first" >&2; exit 1; }
OPTIONS=(--quiet --universal --generate-hashes --python-version 3.12)

compile() {  # compile EXCLUDE_NEWER: write both lock files in $work
  (
    cd "$work"
    "$UV" pip compile pyproject.toml --all-extras "${OPTIONS[@]}" --exclude-newer "$1" \
      ${UPGRADE:-} -o requirements.lock
    "$UV" pip compile pyproject.toml "${OPTIONS[@]}" --exclude-newer "$1" \
      -c requirements.lock -o requirements-production.lock
  )
}

# The work is done on copies. uv keeps the pins of an existing output file and trusts its
# hashes too: the copies keep the pins but not the hashes, which are read from the index again.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp pyproject.toml "$work/"
for lock in requirements.lock requirements-production.lock; do
  if [ -f "$lock" ]; then
    sed -e '/^ *--hash=/d' -e 's/ *\\$//' "$lock" > "$work/$lock"
  fi
done

if [ "${1:-}" != "--check" ]; then
  compile "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cp "$work/requirements.lock" "$work/requirements-production.lock" .
  exit 0
fi

moment=$(sed -n 's/^#.* --exclude-newer \([^ ]*\).*/\1/p' requirements.lock | head -n 1)
if [ -z "$moment" ]; then
  echo "requirements.lock has no --exclude-newer in its header: run make lock" >&2
  exit 1
fi
compile "$moment"
status=0
for lock in requirements.lock requirements-production.lock; do
  if ! diff -u "$lock" "$work/$lock"; then
    echo "$lock is not what make lock writes from pyproject.toml (diff above): run make lock" >&2
    status=1
  fi
done
exit $status
