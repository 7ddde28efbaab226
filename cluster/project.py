"""The Compose project: the one owner of every `docker compose` call.

A ComposeProject is a frozen value (as testcontainers' DockerCompose): its
compose files, its project name, its profiles, the env file its settings
come from, and the values Compose substitutes into the files (workers,
image, ports). It builds the command line and the environment Compose runs
with; no environment dictionary travels between modules. Which files apply
is said by `files` alone (`cluster.across.advertised` adds the across-machines
ones).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

from cluster import engine
from cluster.settings import COMPOSE_FILE, ENV_FILE, ROOT, checkout_project, data_dir, dotenv

EVERY_PROFILE = "*"


@dataclass(frozen=True)
class ComposeProject:
    name: str
    files: tuple[Path, ...] = (COMPOSE_FILE,)
    profiles: tuple[str, ...] = ()
    env_file: Path = ENV_FILE
    # Values Compose substitutes into the files (SPARKLAB_WORKERS, SPARKLAB_IMAGE,
    # a port left empty...): they win over this process's environment and .env.
    variables: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def of_checkout(cls, workers: int | None = None, name: str | None = None) -> ComposeProject:
        """This checkout's project (or `name`; COMPOSE_PROJECT_NAME, when set,
        names it too), with the profiles COMPOSE_PROFILES turns on, and
        `workers` workers when given (else .env's)."""
        return cls(
            name=name or os.environ.get("COMPOSE_PROJECT_NAME") or checkout_project(),
            profiles=tuple(p for p in os.environ.get("COMPOSE_PROFILES", "").split(",") if p),
            variables=() if workers is None else (("SPARKLAB_WORKERS", str(workers)),),
        )

    def with_profiles(self, *profiles: str) -> ComposeProject:
        """This project with `profiles` switched on too."""
        return replace(self, profiles=tuple(dict.fromkeys([*self.profiles, *profiles])))

    def every_profile(self) -> ComposeProject:
        """This project with every profile on, so that connect and notebook are known too."""
        return replace(self, profiles=(EVERY_PROFILE,))

    def with_variables(self, **values: str) -> ComposeProject:
        """This project with these values for Compose to substitute (they replace earlier ones)."""
        merged = {**dict(self.variables), **values}
        return replace(self, variables=tuple(merged.items()))

    def with_defaults(self, **values: str) -> ComposeProject:
        """This project with these values where Compose has none yet (its own or the environment's)."""
        env = self.environment()
        return self.with_variables(**{name: value for name, value in values.items() if name not in env})

    def environment(self) -> dict[str, str]:
        """The environment `docker compose` runs with: this process's, the data
        directory, the ids of the user who runs it (the containers that write
        into the checkout run as them), the project's values, name and profiles."""
        env = dict(os.environ)
        env["SPARKLAB_DATA_DIR"] = str(data_dir())
        env.setdefault("SPARKLAB_UID", str(os.getuid()))
        env.setdefault("SPARKLAB_GID", str(os.getgid()))
        env.update(self.variables)
        env["COMPOSE_PROJECT_NAME"] = self.name
        env["COMPOSE_PROFILES"] = ",".join(self.profiles)
        return env

    def value(self, name: str) -> str:
        """A setting as Compose sees it: the project's value or the environment's
        (set, even empty), else the env file's."""
        env = self.environment()
        return env[name] if name in env else dotenv(self.env_file).get(name, "")

    def command(self, *args: str) -> list[str]:
        """`docker compose -f FILE... ARGS`: the one builder of a Compose command line."""
        return ["docker", "compose", *(part for file in self.files for part in ("-f", str(file))), *args]

    def run(self, *args: str, capture: bool = False, **how) -> subprocess.CompletedProcess:
        """Run `docker compose ARGS` (`engine.run`): a failure is one ClusterError ending
        with Compose's own last line of error. Uncaptured, Compose's progress shows as it comes."""
        how.setdefault("output", "capture" if capture else "show")
        return engine.run(
            self.command(*args), shown=f"docker compose {' '.join(args)}", env=self.environment(), **how
        )

    def start(self, *args: str, **popen) -> subprocess.Popen:
        """Start `docker compose ARGS` and return at once (the caller reads its pipes)."""
        return subprocess.Popen(self.command(*args), cwd=ROOT, env=self.environment(), **popen)
