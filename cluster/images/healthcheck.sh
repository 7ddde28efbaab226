#!/bin/bash
# `healthcheck.sh ROLE [PORT]`: exit 0 when the container's role is ready,
# else print why and exit 1. Docker runs it (docker-compose.yml) and so does
# `./lab up` while it waits (cluster/lifecycle.py): one definition of ready.
#   master    ALIVE in its JSON (port 8080)
#   worker    registered: a master URL in its JSON (port 8081)
#   history   its REST API answers 200 (port 18080)
#   connect   the gRPC port accepts (15002): the server binds it only once
#             its session is up; the token is checked per call, not here
#   notebook  JupyterLab's login page answers 200 (port 8888)
#   driver    the entrypoint wrote spark-defaults.conf (no process to ask)
# bash, not Python: Docker starts it in every container on every interval,
# and an interpreter with its imports cost ~60 ms of CPU a check here.
set -u
role=${1:-}
port=${2:-}

# GET http://127.0.0.1:$1$2 over bash's /dev/tcp; the whole answer on stdout.
get() {
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  timeout 3 cat <&3  # a server that accepts and never answers is not ready
  exec 3<&-
}

# The answer of `get` is ready when its status is 200 and its body matches $3.
answers() {
  local answer
  answer=$(get "$1" "$2") || { echo "not ready: nothing listens on port $1"; return 1; }
  case "${answer%%$'\r'*}" in
    "HTTP/1."?" 200"*) ;;
    *) echo "not ready: GET $2 answered ${answer%%$'\r'*}"; return 1 ;;
  esac
  if [ -n "${3:-}" ] && ! grep -qE "$3" <<<"$answer"; then
    echo "not ready: GET $2 lacks $3"
    return 1
  fi
}

case "$role" in
  master) answers "${port:-8080}" /json/ '^  "status" *: *"ALIVE"' ;;
  worker) answers "${port:-8081}" /json/ '"masterurl" *: *"spark://' ;;
  history) answers "${port:-18080}" '/api/v1/applications?limit=1' ;;
  notebook) answers "${port:-8888}" /login ;;
  connect)
    { exec 3<>"/dev/tcp/127.0.0.1/${port:-15002}"; } 2>/dev/null \
      || { echo "not ready: nothing listens on port ${port:-15002}"; exit 1; }
    ;;
  driver)
    [ -s "${SPARK_CONF_DIR:-/opt/spark-conf}/spark-defaults.conf" ] \
      || { echo "not ready: no spark-defaults.conf yet"; exit 1; }
    ;;
  *) echo "healthcheck.sh: no role ${role@Q} (master, worker, history, connect, notebook, driver)"; exit 2 ;;
esac
