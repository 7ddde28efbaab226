"""The cluster across machines: `./lab up --advertise ADDR` on host A,
`./lab join spark://ADDR_A:7077 --advertise ADDR_B` on host B, and the
images carried between them with `docker save` / `docker load`.

The design (README, "Across machines"):
- every port another host connects to is fixed and published on ADDR only
  (cluster/advertise.yml): master 7077, driver 7078 and 7079, worker 7081,
  its executors' block managers 7090-7093; so one worker per host;
- Spark's standalone daemons bind the address they advertise, and a
  container cannot bind its host's address. So each host's worker (and its
  executors) is known to Spark by a NAME, `sparklab-<ADDR with dashes>`:
  inside that host's containers the name is the worker container itself
  (its hostname and network alias), on every other host it is ADDR
  (`extra_hosts`, from the peers each host is told about);
- the driver advertises ADDR itself (it binds 0.0.0.0), and a worker talks
  to the master at the address it was given (preferConfiguredMasterAddress);
- every connection is authenticated with the cluster's secret and
  encrypted (AES-GCM): publishing on a non-loopback address is refused
  while SPARKLAB_ENCRYPTION is off.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cluster.settings import ADVERTISE_ENV, SECRET_FILE, ClusterError, setting
from jobs.report.files import write_text_atomic, written_atomically
from jobs.waiting import NotReady, wait_until

PEERS_ENV = "SPARKLAB_PEERS"  # the other hosts' addresses, comma-separated
JOIN_ENV = "SPARKLAB_JOIN_MASTER"  # join: the remote master's spark:// URL
SECRET_FILE_ENV = "SPARKLAB_SECRET_PATH"  # another secret file (tests: a wrong one)
MASTER_PORT = 7077


def address(value: str, what: str = "--advertise") -> str:
    """An IP address of this host (Docker publishes ports on an address, not a name)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ClusterError(f"{what} {value!r}: give an IP address of the host (e.g. 192.168.1.20)") from None


HOST_PREFIX = "sparklab-"


def host_name(addr: str) -> str:
    """The name Spark knows a host's worker and executors by."""
    return HOST_PREFIX + re.sub(r"[^0-9a-zA-Z]+", "-", addr).strip("-")


def master_address(url: str) -> str:
    """ADDR of spark://ADDR:7077; the remote master must be given by address and port 7077."""
    match = re.fullmatch(r"spark://([^:/]+):(\d+)/?", url.strip())
    if not match or int(match[2]) != MASTER_PORT:
        raise ClusterError(f"{url!r}: give the master as spark://ADDR:{MASTER_PORT} (host A's --advertise)")
    return address(match[1], "the master's address")


def refuse_plaintext(addr: str, env: dict[str, str]) -> None:
    """Publishing Spark's RPC beyond this host needs encryption on."""
    encryption = env.get("SPARKLAB_ENCRYPTION") or setting("SPARKLAB_ENCRYPTION") or "true"
    if encryption.lower() != "true" and not ipaddress.ip_address(addr).is_loopback:
        raise ClusterError(
            f"refusing to publish Spark's ports on {addr} with SPARKLAB_ENCRYPTION={encryption}: "
            "other hosts would see every job's data in clear; set SPARKLAB_ENCRYPTION=true in .env"
        )


def advertise_env(
    env: dict[str, str], addr: str, peers: Iterable[str] = (), join: str | None = None
) -> dict[str, str]:
    """`env` for Compose calls that publish on `addr`: peers are the other hosts' addresses."""
    addr = address(addr)
    refuse_plaintext(addr, env)
    known = [address(p, "--peers") for p in peers if p.strip()]
    env = {**env, ADVERTISE_ENV: addr, PEERS_ENV: ",".join(dict.fromkeys(p for p in known if p != addr))}
    if join:
        env[JOIN_ENV] = join
    return env


def host_file(env: dict[str, str]) -> Path:
    """The generated per-host override: this host's Spark name on its worker,
    the peers' names everywhere, the master to join. Named by its content,
    so concurrent projects never share a file they disagree on."""
    addr = env[ADVERTISE_ENV]
    name = host_name(addr)
    peers = [p for p in env.get(PEERS_ENV, "").split(",") if p]
    extra_hosts = [f"{host_name(p)}:{p}" for p in peers]
    worker: dict = {
        "hostname": name,
        "networks": {"spark": {"aliases": [name]}},
        "environment": {"SPARKLAB_WORKER_HOST": name},
        "extra_hosts": extra_hosts,
    }
    if env.get(JOIN_ENV):
        worker["command"] = ["worker", env[JOIN_ENV]]
    services = {"worker": worker}
    for service in ("master", "driver", "history"):
        services[service] = {"extra_hosts": extra_hosts}
    spec: dict = {"services": services}
    if env.get(SECRET_FILE_ENV):
        spec["secrets"] = {"spark_secret": {"file": str(Path(env[SECRET_FILE_ENV]).resolve())}}
    text = json.dumps(spec, indent=1, sort_keys=True)  # JSON is YAML: Compose reads it
    path = Path(tempfile.gettempdir()) / f"sparklab-host-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yml"
    if not path.exists():
        write_text_atomic(path, text + "\n")
    return path


def require_secret(master_host: str, path: Path = SECRET_FILE) -> None:
    """join uses host A's secret, copied over: never a fresh one."""
    if not path.is_file() or not path.read_text().strip():
        raise ClusterError(
            f"no {path.name} in {path.parent}: copy host A's, e.g. `mkdir -m 700 -p cluster/secret && "
            f"scp {master_host}:sparklab/cluster/secret/spark.secret cluster/secret/`"
        )


def join(
    master: str,
    *,
    advertise: str,
    workers: int = 1,
    peers: Iterable[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """Start this host's worker, registered with the remote master; returns its Spark name."""
    from cluster import images, lifecycle
    from cluster.settings import compose_env

    master_host = master_address(master)
    if workers != 1:
        raise ClusterError(
            "one worker per host across machines (its ports are fixed); "
            "give it more task slots with SPARKLAB_WORKER_CORES instead"
        )
    env = advertise_env(env or compose_env(1), advertise, [master_host, *peers], join=master.strip())
    require_secret(master_host, Path(env[SECRET_FILE_ENV]) if env.get(SECRET_FILE_ENV) else SECRET_FILE)
    lifecycle.ensure_connect_token()  # Compose wants every secret's file, used or not
    tag = lifecycle.ensure_images()
    images.check_versions(tag)  # this image carries exactly this checkout's pins
    env.setdefault("SPARKLAB_IMAGE", tag)
    print(f"join: starting a worker on {env[ADVERTISE_ENV]} for {master} (image {tag})", file=sys.stderr)
    lifecycle.compose("up", "-d", "--no-deps", "worker", env=env, capture=True)
    # Registered is what the worker itself says (its healthcheck, asked here,
    # not Compose's view of it); a refused secret shows in its log at its
    # first attempt, so that ends the wait at once.

    def registered_or_refused() -> str | NotReady:
        check = ["exec", "-T", "worker", "python", "/opt/sparklab/healthcheck.py", "worker"]
        if lifecycle.compose(*check, env=env, check=False, capture=True).returncode == 0:
            return "registered"
        logs = lifecycle.compose("logs", "--no-color", "worker", env=env, check=False, capture=True).stdout
        return "refused" if AUTH_REFUSED.search(logs) else NotReady("not registered")

    ended = wait_until(registered_or_refused, timeout=timeout, interval=2)
    if ended == "registered":
        return host_name(env[ADVERTISE_ENV])
    lifecycle.compose("rm", "--stop", "--force", "worker", env=env, check=False, capture=True)
    if ended == "refused":
        raise ClusterError(
            f"the worker did not register with {master}: the master refused its authentication "
            "(is cluster/secret/spark.secret host A's?)"
        )
    raise ClusterError(
        f"the worker did not register with {master} within {timeout:.0f} s (can it reach {master_host} "
        f"ports 7077-7079, and host A reach {env[ADVERTISE_ENV]}:7081?)"
    )


# What a worker logs when the master refuses its secret: the AES-based
# handshake fails, the SASL fallback fails too, the connection is dropped.
AUTH_REFUSED = re.compile(r"New auth protocol failed.*?Failed to connect to master", re.DOTALL)


def save_images(path: Path) -> Path:
    """`docker save` the Spark image (and the notebook's, if built) into one archive."""
    from cluster import images

    # The base too: the Spark image's tag hashes the base's id, so `join` finds it built.
    tags = [images.BASE_TAG, images.build_app(), f"{images.APP_REPO}:latest"]
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", images.NOTEBOOK_REPO],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    tags += [t for t in listed.stdout.split() if not t.endswith(":<none>")]
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path) as staged:
        images._run(["docker", "save", "-o", str(staged), *tags])
    return path


def load_images(path: Path) -> list[str]:
    """`docker load` an archive made by save_images; returns the tags it brought."""
    from cluster import images

    if not path.is_file():
        raise ClusterError(f"{path}: no such file (make it on host A with `./lab image --save {path.name}`)")
    done = images._run(["docker", "load", "-i", str(path)])
    return [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("Loaded image: ")]
