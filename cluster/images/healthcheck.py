"""Container healthchecks: `healthcheck.py ROLE`, exit 0 when ready.

The master is ready when it is ALIVE; a worker when it has registered with
the master. So `docker compose up --wait` returns once every worker is
registered, whatever their number, and resizing (`--scale worker=N`)
never touches the master's configuration: the master is not recreated.
"""

import json
import os
import sys
import urllib.request


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=3) as response:
        return json.load(response)


def main(role: str) -> int:
    if role == "master":
        state = get_json("http://127.0.0.1:8080/json/")
        alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
        print(f"master {state.get('status')}, {len(alive)} workers alive")
        return 0 if state.get("status") == "ALIVE" else 1
    if role == "worker":
        state = get_json("http://127.0.0.1:8081/json/")
        return 0 if state.get("masterurl") else 1
    if role == "history":
        get_json("http://127.0.0.1:18080/api/v1/applications?limit=1")
        return 0
    if role == "driver":
        conf = os.path.join(os.environ.get("SPARK_CONF_DIR", "/opt/spark-conf"), "spark-defaults.conf")
        return 0 if os.path.getsize(conf) > 0 else 1
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except (OSError, ValueError) as error:
        print(f"not ready: {error}")
        sys.exit(1)
