#!/usr/bin/env bash
# `make run`: the web app on http://127.0.0.1:8000 and a Celery worker with embedded beat,
# on whatever DATABASE_URL / REDIS_URL say (by default SQLite and a filesystem broker under
# var/). Ctrl-C stops all of it. Run `make run`, which installs, migrates and seeds first.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${VENV:-.venv}"
py="$venv/bin/python"
host=127.0.0.1
port="${PORT:-8000}"
url="http://$host:$port"
export MFA_REQUIRED="${MFA_REQUIRED:-false}"
# Links in emails and the portal link point where the app answers (PORT=8001 included).
export SITE_URL="${SITE_URL:-$url}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-ipt_clinic.settings.local}"

[ -x "$py" ] || { echo "No virtualenv at $venv: run 'make run' (it installs first)." >&2; exit 1; }
# On PostgreSQL the web app and the worker connect as the app's own role (make migrate set it
# up), and are not given the owner's URL.
source scripts/demo-db-env
unset MIGRATE_DATABASE_URL
if "$py" - "$host" "$port" <<'PY'; then
import socket, sys
with socket.socket() as s:
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
  echo "Something already listens on $host:$port; stop it or run with PORT=<another port>." >&2
  exit 1
fi
mkdir -p var

# Job control puts each process (with its children) in a process group of its own, so one
# signal to the group stops it whole, and Ctrl-C reaches only this script, which stops both.
set -m
pids=()
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  # Keep going if the terminal (or a pipe reading our output) is already gone.
  trap '' INT TERM PIPE
  echo "Stopping the web app and the worker..." 2>/dev/null || true
  # The main processes first (Celery then finishes its task and stops its pool)...
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 75); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  # ...then whatever is left of their process groups, after 15 seconds.
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -f "${worker_log:-}"
  echo "Stopped." 2>/dev/null || true
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

# The worker's output goes whole to a file (where the script sees it say "ready") and to the
# terminal without beat's routine rounds (the dispatcher and the sweeper, every few seconds),
# which would otherwise push everything else off the screen; the notices it sends still show.
worker_log="var/demo-worker-$port.log"
: >"$worker_log"
routine='(dispatch_due_notifications|sweep_stuck_notifications|sweep-stuck-notifications|dispatch-due-notifications)'
"$py" -m celery -A ipt_clinic worker --beat --concurrency 1 --loglevel INFO \
  --schedule var/celerybeat-schedule --pidfile= \
  > >(tee -a "$worker_log" | grep --line-buffered -v -E "$routine") 2>&1 &
pids+=("$!")
"$py" manage.py runserver --noreload "$host:$port" &
pids+=("$!")

# Wait for the web app to answer, giving up at once if either process has exited.
up=0
for _ in $(seq 1 240); do
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  if "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "$url/healthz" 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.5
done
if [ "$up" != 1 ]; then
  echo "The web app or the worker failed to start (see above), or $url/healthz never answered." >&2
  exit 1
fi

# The worker's banner and start-up log come after seed_demo's logins and push them off the
# screen: once the worker says it is ready (at most a minute), the lines that matter again.
for _ in $(seq 1 120); do
  grep -q "ready\." "$worker_log" 2>/dev/null && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  sleep 0.5
done
sleep 1 # beat's own first lines
rule="  ------------------------------------------------------------------------------------"
echo
echo "$rule"
# In the background and waited for, so that a Ctrl-C meanwhile is acted on at once (bash holds
# a trap back until a foreground command ends).
"$py" manage.py demo_logins --address "$url" 2>/dev/null &
if ! wait "$!"; then
  echo "  IPT Clinic is running at $url"
  echo "  No demo data in this database: 'make demo' (manage.py seed_demo) adds it and prints the logins."
fi
echo "  MFA is off in the demo. Web app and Celery worker (with beat) run; Ctrl-C stops both."
echo "$rule"
echo

# Either process ending (a crash) ends the demo, so nothing is left half-running.
wait -n || true
echo "A process of the demo stopped; stopping the rest." >&2
exit 1
