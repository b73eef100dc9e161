#!/usr/bin/env bash
# Start the services the integration tests talk to, when installed but stopped.
# The machine kind starts them before a session; CI and a rebooted machine may not have.
# A service that is not installed is reported; the tests then fail under CI=true.
set -u

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 50); do listening "$1" && return 0; sleep 0.2; done
  return 1
}

start() { # name port command...
  local name=$1 port=$2; shift 2
  if listening "$port"; then echo "services: $name is up on $port"; return 0; fi
  echo "services: starting $name"
  "$@" >/dev/null 2>&1 || true
  if wait_port "$port"; then echo "services: $name is up on $port"; else echo "services: $name did not start on $port"; fi
}

if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
  start PostgreSQL 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
else
  listening 5432 || echo "services: PostgreSQL is not installed"
fi
if command -v redis-server >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
  start Redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
else
  listening 6379 || echo "services: Redis is not installed"
fi
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  start Mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf
else
  echo "services: Mosquitto is not installed"
fi
exit 0
