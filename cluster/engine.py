"""The Docker engine, and the one way the host side runs an outside command.

`run` starts every command of `cluster/` (docker, `docker compose` through
`cluster.project`, pip for the images' wheels, build-base.sh, ps) and
reports a failure the one way: a one-line error naming the command, its exit
code and the last line it wrote to stderr (`jobs.errors.last_line`). The
plain `docker` calls (the engine's check, its machine, images, containers'
published ports, a kill) live here; `docker compose` lives in
`cluster.project`.

Plain subprocess, not python-on-whales or testcontainers' DockerCompose:
the lock carries neither for the host's commands (testcontainers only for
the tests), the commands are few and their output is parsed here, and a
Compose failure must reach the user as Compose's own last line, which a
subprocess keeps as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from cluster.settings import ROOT, ClusterError
from jobs.errors import last_line

# What becomes of a command's output:
#   capture   stdout and stderr kept (the caller reads them)
#   stdout    stdout kept, stderr shown as it comes
#   show      both shown as they come; stderr's last lines kept for the error
#   terminal  both shown as they come, nothing kept (a failure says "see above")
Output = Literal["capture", "stdout", "show", "terminal"]


def failure(shown: str, code: int, said: str | bytes | None, *, kept: bool = True) -> str:
    """The one line a failed command becomes: `shown` failed (exit N): its last line of error."""
    last = last_line(said, "")
    if last:
        return f"`{shown}` failed (exit {code}): {last}"
    return f"`{shown}` failed (exit {code})" + ("" if kept else " (see above)")


def run(
    command: Sequence[str],
    *,
    shown: str | None = None,
    output: Output = "capture",
    check: bool = True,
    timeout: float | None = None,
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    text: bool = True,
    error: type[Exception] = ClusterError,
) -> subprocess.CompletedProcess:
    """Run `command`; with `check`, a non-zero exit raises `error` with `failure`'s line
    (`shown` names the command there: by default the program's name and its arguments)."""
    command = list(command)
    if output == "show":
        done = _showing_stderr(command, env, cwd, timeout)
    else:
        piped = subprocess.PIPE
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            text=text,
            input=input,
            timeout=timeout,
            stdout=piped if output in ("capture", "stdout") else None,
            stderr=piped if output == "capture" else None,
        )
    if check and done.returncode != 0:
        shown = shown or " ".join([Path(command[0]).name, *command[1:]])
        raise error(failure(shown, done.returncode, done.stderr, kept=output in ("capture", "show")))
    return done


def _showing_stderr(
    command: list[str], env: Mapping[str, str] | None, cwd: Path, timeout: float | None
) -> subprocess.CompletedProcess:
    """Run `command` with its stderr shown as it comes and its last lines kept
    (they say why it failed); stdout is left to the terminal."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE)
    kept: list[bytes] = []
    try:
        for line in process.stderr:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
            kept = [*kept[-19:], line]
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    said = b"".join(kept).decode(errors="replace")
    return subprocess.CompletedProcess(command, code, None, said)


def docker(*args: str, **how) -> subprocess.CompletedProcess:
    """`docker ARGS` (not compose: `cluster.project`), run as `run` runs a command."""
    return run(["docker", *args], **how)


def engine_problem() -> str | None:
    """None when Docker and Compose v2 answer; otherwise what is missing.
    The one check of the engine, shared by the lifecycle and the image build."""
    if not shutil.which("docker"):
        return "no Docker engine (the `docker` command is not installed)"
    info = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    if info.returncode != 0:
        return f"the Docker engine does not answer ({last_line(info.stderr, 'no answer')})"
    compose = docker("compose", "version", check=False, timeout=30)
    if compose.returncode != 0:
        return "Docker Compose v2 is missing (`docker compose version` fails; `./lab` installs it)"
    return None


def machine() -> str | None:
    """The engine's machine (x86_64, aarch64), or None when it does not say."""
    done = docker("version", "--format", "{{.Server.Arch}}", check=False)
    arch = done.stdout.strip()
    if done.returncode != 0 or not arch:
        return None
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def image_tags(repository: str) -> list[str]:
    """`repo:tag` of every tagged image of `repository` (a pattern: `sparklab/*`)."""
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository, check=False)
    return [tag for tag in listed.stdout.split() if not tag.endswith(":<none>")]


# A running container's name, published ports, and the Compose project and folder it belongs to.
PS_PORTS_FORMAT = (
    '{{.Names}}\t{{.Ports}}\t{{.Label "com.docker.compose.project"}}'
    '\t{{.Label "com.docker.compose.project.working_dir"}}'
)


def published_ports() -> list[tuple[str, str, str, str]]:
    """(name, ports, Compose project, its folder) of every running container."""
    listing = docker("ps", "--format", PS_PORTS_FORMAT, check=False)
    return [tuple(line.split("\t")) for line in listing.stdout.splitlines()]  # four fields


def kill(container: str, signal: str = "KILL") -> None:
    docker("kill", "--signal", signal, container)
