#!/bin/sh
# One image, every role: `master`, `worker MASTER_URL`, `history`, `driver`,
# `connect [MASTER_URL]` (Spark Connect), `notebook` (JupyterLab, notebook
# image only); anything else is exec'd as given.
# Daemons run in the foreground through spark-class or spark-submit
# (compose's `init: true` reaps zombies and forwards signals).
set -eu

conf_dir=${SPARK_CONF_DIR:-/opt/spark-conf}
secret_file=${SPARKLAB_SECRET_FILE:-/run/secrets/spark_secret}
class_archive=/opt/venv/sparklab-classes.jsa  # both written by the image build
class_path=/opt/venv/sparklab-classes.path

# spark-defaults.conf is written here, at start, because it holds the RPC
# secret: never in an image layer, readable by the spark user only.
write_conf() {
  if [ ! -s "$secret_file" ]; then
    echo "entrypoint: no Spark RPC secret at $secret_file; run \`./lab up\` once (it creates cluster/secret/spark.secret)" >&2
    exit 64
  fi
  umask 077
  mkdir -p "$conf_dir"
  {
    echo "spark.authenticate true"
    printf 'spark.authenticate.secret %s\n' "$(cat "$secret_file")"
    # RPC and block transfers encrypted, with an authenticated cipher:
    # Spark's default, AES/CTR, is unauthenticated (CVE-2025-55039).
    # Shuffle and spill files on disk are encrypted too. .env's
    # SPARKLAB_ENCRYPTION=false turns all three off (for a comparison only).
    if [ "${SPARKLAB_ENCRYPTION:-true}" = true ]; then
      echo "spark.network.crypto.enabled true"
      echo "spark.network.crypto.cipher AES/GCM/NoPadding"
      echo "spark.io.encryption.enabled true"
    fi
    echo "spark.master.rest.enabled false"
    echo "spark.master.ui.decommission.allow.mode DENY"
    echo "spark.deploy.defaultCores ${SPARKLAB_DEFAULT_CORES:-1}"
    echo "spark.deploy.recoveryMode FILESYSTEM"
    echo "spark.deploy.recoveryDirectory /opt/spark-recovery"
    echo "spark.ui.reverseProxy true"
    echo "spark.ui.reverseProxyUrl ${SPARKLAB_PROXY_URL:-http://127.0.0.1:8080}"
    echo "spark.eventLog.enabled true"
    echo "spark.eventLog.dir file:/opt/spark-events"
    echo "spark.history.fs.logDirectory file:/opt/spark-events"
    echo "spark.history.fs.update.interval 2s"
    echo "spark.history.ui.port 18080"
    echo "spark.python.unix.domain.socket.enabled true"
    echo "spark.ui.showConsoleProgress false"
    # Schedule the first job only once every requested executor is up (at
    # most 10 s), so a run uses the whole cluster from its first stage.
    echo "spark.scheduler.minRegisteredResourcesRatio 1.0"
    echo "spark.scheduler.maxRegisteredResourcesWaitingTime 10s"
    # The driver lives in its own container: executors reach it by its
    # service name on fixed ports of the cluster network (never published).
    echo "spark.driver.host ${SPARKLAB_DRIVER_HOST:-driver}"
    echo "spark.driver.bindAddress 0.0.0.0"
    echo "spark.driver.port 7078"
    echo "spark.driver.blockManager.port 7079"
    # Executors' block managers (shuffle, broadcast pieces): 7090, or the
    # next free port up to 7093 when several run on one worker. Fixed, so a
    # worker on another host can publish them (cluster/advertise.yml).
    echo "spark.blockManager.port 7090"
    # A worker talks to the master at the address it was given
    # (spark://HOST_A:7077 across machines), not at the name the master
    # calls itself on its private network.
    echo "spark.worker.preferConfiguredMasterAddress true"
    # Drivers and executors map the image's class archive of Spark's classes
    # (class_archive.py says why), with the jars first on their class path in
    # the order the archive was written with: `jars/*` alone comes in the
    # file system's order, which differs between containers. A JVM that
    # cannot use the archive just loads the classes from the jars, silently.
    jvm_opts=${SPARKLAB_JVM_OPTS:-}
    if [ -s "$class_archive" ] && [ -s "$class_path" ]; then
      jvm_opts="$jvm_opts -XX:SharedArchiveFile=$class_archive -Xlog:cds*=off"
      echo "spark.driver.extraClassPath $(cat "$class_path")"
      echo "spark.executor.extraClassPath $(cat "$class_path")"
    fi
    if [ -n "$jvm_opts" ]; then  # .env says why
      echo "spark.driver.extraJavaOptions $jvm_opts"
      echo "spark.executor.extraJavaOptions $jvm_opts"
    fi
    echo "spark.executor.memory ${SPARKLAB_EXECUTOR_MEMORY:-768m}"
    # One task slot per executor: applications share a worker's slots.
    echo "spark.executor.cores 1"
  } > "$conf_dir/spark-defaults.conf"
  # Daemons log at INFO (./lab logs); the driver at WARN, so a job's own
  # progress lines are not buried.
  cat > "$conf_dir/log4j2.properties" <<LOG
rootLogger.level = ${SPARKLAB_LOG_LEVEL:-info}
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
LOG
  export SPARK_CONF_DIR="$conf_dir"
  # Event logs come from drivers of other users too (the notebook runs as
  # the host's user, in group spark): their files take the directory's
  # group. A volume made before keeps its mode: set it where spark owns it.
  chmod 2775 /opt/spark-events 2>/dev/null || true
  # The daemons (master, worker, history server) map the archive too, with
  # the same class path first.
  if [ -s "$class_archive" ] && [ -s "$class_path" ]; then
    SPARK_DAEMON_CLASSPATH=$(cat "$class_path")
    SPARK_DAEMON_JAVA_OPTS="${SPARK_DAEMON_JAVA_OPTS:-} -XX:SharedArchiveFile=$class_archive -Xlog:cds*=off"
    export SPARK_DAEMON_CLASSPATH SPARK_DAEMON_JAVA_OPTS
  fi
}

# Wait (120 tries, each at most a second, half a second apart) until the
# master at spark://HOST:PORT accepts connections: Compose starts every
# service at once, and a worker or an application whose first registration
# finds no master waits 5 to 20 s before it tries again. Several masters
# (a comma list): Spark's own.
wait_for_master() {
  case "$1" in *,*) return 0 ;; esac
  address=${1#spark://}
  tries=120
  until timeout 1 bash -c "exec 3<>/dev/tcp/${address%:*}/${address##*:}" 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 0  # Spark says the rest itself
    sleep 0.5
  done
}

# A role's token (connect, notebook): from the file Compose mounts, into
# the environment of the server exec'd next, never a command line, a conf
# file or the UI. Without it the role refuses to start and says what creates it.
export_token() {  # VARIABLE FILE WHAT COMMAND CREATED
  if [ ! -s "$2" ]; then
    echo "entrypoint: no $3 token at $2; run \`$4\` (it creates $5)" >&2
    exit 64
  fi
  token=$(cat "$2")
  export "$1=$token"
}

role=${1:-}
case "$role" in
  master)
    shift; write_conf
    exec spark-class org.apache.spark.deploy.master.Master --host "${SPARKLAB_MASTER_HOST:-master}" --port 7077 --webui-port 8080 "$@"
    ;;
  worker)
    shift; write_conf
    wait_for_master "${1:-spark://master:7077}"
    exec spark-class org.apache.spark.deploy.worker.Worker \
      --cores "${SPARK_WORKER_CORES:-1}" --memory "${SPARK_WORKER_MEMORY:-1g}" \
      --work-dir /opt/spark-work --webui-port 8081 \
      ${SPARKLAB_WORKER_HOST:+--host "$SPARKLAB_WORKER_HOST"} --port "${SPARKLAB_WORKER_PORT:-0}" \
      "${1:-spark://master:7077}"
    ;;
  history)
    shift; write_conf
    exec spark-class org.apache.spark.deploy.history.HistoryServer "$@"
    ;;
  connect)
    # The Spark Connect server, in the foreground: one long-lived application
    # on the master (spark-submit runs it: spark-defaults.conf applies).
    shift; write_conf
    # Clients must send this token as a bearer token.
    export_token SPARK_CONNECT_AUTHENTICATE_TOKEN "${SPARKLAB_CONNECT_TOKEN_FILE:-/run/secrets/connect_token}" \
      Connect "./lab up --connect" cluster/secret/connect.token
    wait_for_master "${1:-spark://master:7077}"
    # At most SPARKLAB_CONNECT_CORES task slots, and only while queries run
    # (dynamic allocation; shuffle tracking stands in for a shuffle service):
    # submitted jobs still find a slot on every worker. Its run id and owner
    # as every SparkLab application's (jobs/runtime/run_tags.py).
    exec spark-submit --class org.apache.spark.sql.connect.service.SparkConnectServer \
      --name "Spark Connect server" --master "${1:-spark://master:7077}" \
      --conf "spark.sparklab.run=connect-$(date -u +%Y%m%d-%H%M%S)" --conf spark.sparklab.owner=connect \
      --conf "spark.cores.max=${SPARKLAB_CONNECT_CORES:-1}" \
      --conf spark.connect.grpc.binding.port=15002 \
      --conf spark.dynamicAllocation.enabled=true \
      --conf spark.dynamicAllocation.shuffleTracking.enabled=true \
      --conf spark.dynamicAllocation.shuffleTracking.timeout=120s \
      --conf spark.dynamicAllocation.minExecutors=0 \
      --conf spark.dynamicAllocation.executorIdleTimeout=60s \
      --conf spark.scheduler.minRegisteredResourcesRatio=0
    ;;
  notebook)
    # JupyterLab (the notebook image only): each kernel is a Spark driver in
    # client mode, reached by executors as `notebook` on the cluster network.
    shift; write_conf
    # From the environment, Jupyter shows the token as `...` in its log.
    export_token JUPYTER_TOKEN "${SPARKLAB_NOTEBOOK_TOKEN_FILE:-/run/secrets/notebook_token}" \
      notebook "./lab notebook" cluster/secret/notebook.token
    # The user who ran ./lab may be root (compose: no capabilities).
    [ "$(id -u)" != 0 ] || set -- --allow-root "$@"
    exec jupyter lab --ip 0.0.0.0 --port 8888 --no-browser \
      --ServerApp.root_dir=/sparklab/notebooks --ServerApp.allow_remote_access=True "$@"
    ;;
  driver)
    shift; write_conf
    # Jobs are run in this container with `docker compose exec`; it stays up.
    exec sleep infinity
    ;;
  *)
    exec "$@"
    ;;
esac
