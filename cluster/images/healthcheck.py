"""Container healthchecks: `healthcheck.py ROLE`, exit 0 when ready.

The master is ready when it is ALIVE and at least $SPARKLAB_WORKERS workers
are registered (from its JSON endpoint), so `docker compose up --wait`
returns only when the cluster can run a job.
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
        # Set by docker-compose.yml from .env, the one source of the worker count.
        wanted = int(os.environ["SPARKLAB_WORKERS"])
        ready = state.get("status") == "ALIVE" and len(alive) >= wanted
        print(f"master {state.get('status')}, {len(alive)}/{wanted} workers alive")
        return 0 if ready else 1
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
    except (OSError, ValueError, KeyError) as error:
        print(f"not ready: {error}")
        sys.exit(1)
