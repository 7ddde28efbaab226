"""The cluster across machines, as Compose sees it: `./lab up --advertise
ADDR` on host A, `./lab join spark://ADDR_A:7077 --advertise ADDR_B` on host
B (`cluster.hosts`), the images carried between them with `docker save` /
`docker load` (`cluster.images`). Here: addresses, names, the refusal, and
the project that publishes on ADDR (its override files).

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
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from cluster.project import ComposeProject
from cluster.settings import ADVERTISE_ENV, ADVERTISE_FILE, COMPOSE_FILE, SECRET_FILE, ClusterError
from jobs.report.files import write_text_atomic

PEERS_ENV = "SPARKLAB_PEERS"  # the other hosts' addresses, comma-separated
JOIN_ENV = "SPARKLAB_JOIN_MASTER"  # join: the remote master's spark:// URL
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


def refuse_plaintext(addr: str, project: ComposeProject) -> None:
    """Publishing Spark's RPC beyond this host needs encryption on."""
    encryption = project.value("SPARKLAB_ENCRYPTION") or "true"
    if encryption.lower() != "true" and not ipaddress.ip_address(addr).is_loopback:
        raise ClusterError(
            f"refusing to publish Spark's ports on {addr} with SPARKLAB_ENCRYPTION={encryption}: "
            "other hosts would see every job's data in clear; set SPARKLAB_ENCRYPTION=true in .env"
        )


def advertised(
    project: ComposeProject,
    addr: str,
    peers: Iterable[str] = (),
    *,
    join: str | None = None,
    secret_file: Path | None = None,
) -> ComposeProject:
    """`project` publishing on `addr` (peers: the other hosts' addresses; `join`:
    the remote master a lone worker registers with; `secret_file`: another
    secret than this checkout's): the fixed ports' file and this host's own."""
    addr = address(addr)
    refuse_plaintext(addr, project)
    known = [address(p, "--peers") for p in peers if p.strip()]
    others = list(dict.fromkeys(p for p in known if p != addr))
    files = (COMPOSE_FILE, ADVERTISE_FILE, host_file(addr, others, join=join, secret_file=secret_file))
    values = {ADVERTISE_ENV: addr, PEERS_ENV: ",".join(others), **({JOIN_ENV: join} if join else {})}
    return replace(project, files=files).with_variables(**values)


def host_file(
    addr: str, peers: Iterable[str], *, join: str | None = None, secret_file: Path | None = None
) -> Path:
    """The generated per-host override: this host's Spark name on its worker,
    the peers' names everywhere, the master to join. Named by its content,
    so concurrent projects never share a file they disagree on."""
    name = host_name(addr)
    extra_hosts = [f"{host_name(p)}:{p}" for p in peers]
    worker: dict = {
        "hostname": name,
        "networks": {"spark": {"aliases": [name]}},
        "environment": {"SPARKLAB_WORKER_HOST": name},
        "extra_hosts": extra_hosts,
    }
    if join:
        worker["command"] = ["worker", join]
    services = {"worker": worker}
    for service in ("master", "driver", "history"):
        services[service] = {"extra_hosts": extra_hosts}
    spec: dict = {"services": services}
    if secret_file:
        spec["secrets"] = {"spark_secret": {"file": str(Path(secret_file).resolve())}}
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


# What a worker logs when the master refuses its secret: the AES-based
# handshake fails, the SASL fallback fails too, the connection is dropped.
AUTH_REFUSED = re.compile(r"New auth protocol failed.*?Failed to connect to master", re.DOTALL)
