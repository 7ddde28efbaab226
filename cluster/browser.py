"""A real browser for the Spark UIs: headless Chromium from Debian's packages,
driven from the command line (`--dump-dom` after the page's JavaScript has
run, `--screenshot`). No Python browser library needed; `ensure_chromium`
installs the browser where `./lab` may (root with apt), as it installs the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cluster import engine
from jobs.errors import JobError, last_line

NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL = "apt-get install -y chromium"


def find_chromium() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def ensure_chromium() -> str:
    """The browser's path; installed with apt when missing and we are root."""
    found = find_chromium()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"lab: installing Chromium for the UI tests ({INSTALL})", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            engine.run(command, env=env, check=False, cwd=Path.cwd())
        found = find_chromium()
    if not found:
        raise JobError(f"no Chromium found for the UI tests: install it ({INSTALL}, as root)")
    return found


def _chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="sparklab-chromium-") as profile:
        return engine.run(
            [
                ensure_chromium(),
                "--headless",
                "--no-sandbox",  # as root, Chromium refuses to start with its sandbox
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1400,1000",
                *args,
            ],
            check=False,  # the callers say what failed, with Chromium's last line
            timeout=timeout,
            cwd=Path.cwd(),
        )


def rendered_dom(url: str, wait_ms: int = 8000) -> str:
    """The page's DOM once its scripts have run (their fetches included)."""
    done = _chromium(f"--virtual-time-budget={wait_ms}", "--dump-dom", url)
    if done.returncode != 0 or not done.stdout.strip():
        raise JobError(f"Chromium could not render {url}: {last_line(done.stderr)}")
    return done.stdout


def screenshot(url: str, path: Path, wait_ms: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _chromium(f"--virtual-time-budget={wait_ms}", f"--screenshot={path}", url)
    if done.returncode != 0 or not path.is_file():
        raise JobError(f"Chromium took no screenshot of {url}: {last_line(done.stderr)}")
    return path
