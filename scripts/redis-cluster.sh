#!/usr/bin/env bash
# A local Redis Cluster for the tests: 3 masters with one replica each on loopback ports of its own
# (default 7100–7105), data in a temporary directory, no persistence.
#
#   bash scripts/redis-cluster.sh start   # starts it (idempotent) and prints CTRKIT_REDIS_CLUSTER=…
#   bash scripts/redis-cluster.sh stop    # shuts the six servers down and removes their directory
#   bash scripts/redis-cluster.sh env     # prints the CTRKIT_REDIS_CLUSTER value only
#
# The cluster suites (describe blocks named "… on Redis Cluster") run when CTRKIT_REDIS_CLUSTER is
# set, e.g. `export $(bash scripts/redis-cluster.sh start | tail -1) && npm test`.
set -euo pipefail

BASE_PORT="${CTRKIT_REDIS_CLUSTER_BASE_PORT:-7100}"
NODES=6
DIR="${CTRKIT_REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/ctrkit-redis-cluster-$BASE_PORT}"
ports=()
for i in $(seq 0 $((NODES - 1))); do ports+=($((BASE_PORT + i))); done

addresses() { local IFS=,; local list=(); for p in "${ports[@]}"; do list+=("127.0.0.1:$p"); done; echo "${list[*]}"; }

cluster_ok() {
  redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' &&
    [ "$(redis-cli -p "${ports[0]}" cluster nodes 2>/dev/null | grep -c master)" -ge 3 ]
}

start() {
  command -v redis-server >/dev/null || { echo 'redis-server is not installed (apt-get install redis-server)' >&2; exit 1; }
  # Servers that are down (a test killed one) are started again from their nodes.conf and rejoin
  # the cluster as replicas of whichever node took over their slots.
  mkdir -p "$DIR"
  for p in "${ports[@]}"; do
    if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
      mkdir -p "$DIR/$p"
      redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" \
        --cluster-node-timeout 2000 --enable-debug-command local --dir "$DIR/$p" --save '' --appendonly no --daemonize yes \
        --logfile "$DIR/$p/redis.log" --pidfile "$DIR/$p/redis.pid"
    fi
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "redis-server on $p did not start (see $DIR/$p/redis.log)" >&2; exit 1; }
  done
  local hosts=(); for p in "${ports[@]}"; do hosts+=("127.0.0.1:$p"); done
  if ! cluster_ok && [ "$(redis-cli -p "${ports[0]}" cluster info | grep -c 'cluster_known_nodes:1')" = 1 ]; then
    redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
  fi
  for _ in $(seq 1 100); do cluster_ok && break; sleep 0.1; done
  cluster_ok || { echo 'the cluster did not reach cluster_state:ok' >&2; exit 1; }
  # Every master needs an online replica before a failover test can promote one (a restarted
  # server rejoins as a replica and needs a full sync first).
  local ready
  for _ in $(seq 1 300); do
    ready=0
    for p in "${ports[@]}"; do
      if redis-cli -p "$p" info replication 2>/dev/null | grep -q '^slave0:.*state=online'; then ready=$((ready + 1)); fi
    done
    [ "$ready" -ge 3 ] && break
    sleep 0.1
  done
  [ "$ready" -ge 3 ] || { echo "only $ready of 3 masters have an online replica after 30 s" >&2; exit 1; }
  echo "redis cluster up on ports ${ports[*]} (data in $DIR)"
  echo "CTRKIT_REDIS_CLUSTER=$(addresses)"
}

stop() {
  for p in "${ports[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$DIR"
  echo 'redis cluster stopped'
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) echo "$(addresses)" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
