#!/usr/bin/env bash
# Checks that the services the tests talk to answer on 127.0.0.1, starting them (as `env` documents) when not.
# Fails with a clear message when one cannot be started: tests never skip a missing service silently.
set -u
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ensure() {
  local name=$1 port=$2 start=$3
  if answers "$port"; then return 0; fi
  echo "ensure-services: $name is not answering on 127.0.0.1:$port; starting it" >&2
  bash -c "$start" >/dev/null 2>&1
  for _ in $(seq 1 30); do answers "$port" && return 0; sleep 1; done
  echo "ensure-services: $name still not answering on 127.0.0.1:$port. Start it with: $start" >&2
  return 1
}
status=0
ensure PostgreSQL 5432 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
ensure Redis 6379 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log' || status=1
ensure MariaDB 3306 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd' || status=1
# The inspector's browser test drives Debian's Chromium.
if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-services: installing Debian's chromium for the inspector's browser test" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1; then
    echo "ensure-services: could not install chromium; run: apt-get install -y chromium" >&2
    status=1
  fi
fi
exit $status
