"""The per-install secrets: the Spark RPC secret and the Connect token,
random, git-ignored, never printed (the notebook's token is made the same way)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cluster.settings import CONNECT_TOKEN_FILE, SECRET_FILE


def ensure_secret(path: Path = SECRET_FILE) -> Path:
    """The per-install Spark RPC secret (or, given its path, the Connect
    token): random, git-ignored, never printed."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # only this user can reach the file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        # 0644 inside a 0700 directory: the containers' non-root user reads
        # the bind-mounted file; other users on this host cannot reach it.
    return path


def ensure_connect_token() -> Path:
    """The per-install Spark Connect token, kept like the RPC secret. Made
    whenever the secret is: Compose wants every secret's file to exist."""
    return ensure_secret(CONNECT_TOKEN_FILE)
