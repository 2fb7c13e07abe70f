#!/usr/bin/env bash
# Starts/stops single-node Apache Kafka (KRaft, 127.0.0.1:9092) and Apache Cassandra 5.0
# (CQL on 127.0.0.1:9042, standing in for ScyllaDB) from the jars fetch.sh resolved.
#   deploy/dev/stack.sh start|stop|status [kafka|cassandra]
# State, logs and pid files live in $DEV_HOME (default .dev/ at the repo root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
DEV_HOME="$(mkdir -p "${DEV_HOME:-$here/../../.dev}" && cd "${DEV_HOME:-$here/../../.dev}" && pwd)"
JAVA="${JAVA:-java}"
KAFKA_PORT=9092
CQL_PORT=9042

log() { echo "dev-stack: $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Cassandra opens its port before it can serve: ready means a CQL v4 OPTIONS frame gets SUPPORTED.
cql_ready() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(bytes([0x04, 0, 0, 0, 0x05, 0, 0, 0, 0]))  # v4 request, stream 0, OPTIONS, empty body
header = s.recv(9)
sys.exit(0 if len(header) >= 5 and header[4] == 0x06 else 1)  # 0x06 = SUPPORTED
PY
}

ready() { # name port
  if [ "$1" = cassandra ]; then cql_ready "$2"; else port_open "$2"; fi
}

wait_port() { # name port seconds logfile
  for _ in $(seq 1 "$3"); do
    if ready "$1" "$2"; then log "$1 ready on 127.0.0.1:$2"; return 0; fi
    if ! kill -0 "$(cat "$DEV_HOME/$1.pid")" 2>/dev/null; then
      log "$1 exited during start; last log lines:"; tail -n 30 "$4" >&2; return 1
    fi
    sleep 1
  done
  log "$1 not ready after $3 s; last log lines:"; tail -n 30 "$4" >&2; return 1
}

start_kafka() {
  local dir="$DEV_HOME/kafka" jars="$DEV_HOME/jars/kafka/*"
  if port_open $KAFKA_PORT; then log "kafka already listening on $KAFKA_PORT"; return 0; fi
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat > "$dir/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.org.name = org.apache.kafka
logger.org.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
PROPS
  local jvm=(-Xms512m -Xmx512m -XX:+UseG1GC -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$jars")
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    id="$("$JAVA" "${jvm[@]}" org.apache.kafka.tools.StorageTool random-uuid 2>/dev/null || "$JAVA" "${jvm[@]}" kafka.tools.StorageTool random-uuid)"
    "$JAVA" "${jvm[@]}" org.apache.kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || "$JAVA" "${jvm[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >>"$dir/format.log" 2>&1 \
      || { log "kafka storage format failed:"; cat "$dir/format.log" >&2; return 1; }
  fi
  nohup "$JAVA" "${jvm[@]}" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
  echo $! > "$DEV_HOME/kafka.pid"
  wait_port kafka $KAFKA_PORT 90 "$dir/kafka.log"
}

start_cassandra() {
  local dir="$DEV_HOME/cassandra" jars="$DEV_HOME/jars/cassandra"
  if port_open $CQL_PORT; then log "cassandra already listening on $CQL_PORT"; return 0; fi
  mkdir -p "$dir"/{data,commitlog,hints,saved_caches,cdc_raw,logs,tmp}
  cat > "$dir/cassandra.yaml" <<YAML
cluster_name: costwatch-dev
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:7000"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: 7000
native_transport_port: $CQL_PORT
start_native_transport: true
data_file_directories: [$dir/data]
commitlog_directory: $dir/commitlog
hints_directory: $dir/hints
saved_caches_directory: $dir/saved_caches
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
auto_snapshot: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
YAML
  cat > "$dir/logback.xml" <<'XML'
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level %date{ISO8601} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
  <logger name="org.apache.cassandra.service.CassandraDaemon" level="INFO"/>
  <logger name="org.apache.cassandra.transport.Server" level="INFO"/>
</configuration>
XML
  local jamm
  jamm="$(ls "$jars"/jamm-*.jar | head -n 1)"
  local opens=(
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
  )
  # 2 GiB: every test keyspace holds ~20 tables (projection, alerts, anomalies), and a full
  # `make adapters` creates a few dozen of them; 1 GiB ran out of heap at ~70 keyspaces.
  nohup "$JAVA" -Xms2g -Xmx2g -XX:+UseG1GC -XX:+ParallelRefProcEnabled "${opens[@]}" \
    -javaagent:"$jamm" \
    -Djava.security.manager=allow -Djdk.attach.allowAttachSelf=true -Djava.net.preferIPv4Stack=true \
    -Dio.netty.tryReflectionSetAccessible=true \
    -Dcassandra.config="file://$dir/cassandra.yaml" -Dcassandra.storagedir="$dir" \
    -Dcassandra.logdir="$dir/logs" -Dcassandra-foreground=yes \
    -Dlogback.configurationFile="$dir/logback.xml" -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -Dcassandra.jmx.local.port=7199 \
    -Djava.io.tmpdir="$dir/tmp" -Djna.tmpdir="$dir/tmp" \
    -cp "$jars/*" org.apache.cassandra.service.CassandraDaemon >"$dir/cassandra.log" 2>&1 &
  echo $! > "$DEV_HOME/cassandra.pid"
  wait_port cassandra $CQL_PORT 180 "$dir/cassandra.log"
}

stop_one() {
  local pidfile="$DEV_HOME/$1.pid"
  [ -f "$pidfile" ] || { log "$1 not started by this script"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$1 stopped"
  fi
  rm -f "$pidfile"
}

cmd="${1:-status}"; which="${2:-all}"
case "$cmd" in
  start)
    "$here/fetch.sh"
    [ "$which" = cassandra ] || start_kafka
    [ "$which" = kafka ] || start_cassandra ;;
  stop)
    [ "$which" = cassandra ] || stop_one kafka
    [ "$which" = kafka ] || stop_one cassandra ;;
  status)
    port_open $KAFKA_PORT && log "kafka up on $KAFKA_PORT" || log "kafka down"
    port_open $CQL_PORT && log "cassandra up on $CQL_PORT" || log "cassandra down" ;;
  *) echo "usage: $0 start|stop|status [kafka|cassandra]" >&2; exit 64 ;;
esac
