"""Spark Connect sessions: this process is a gRPC client of a Connect server
(no JVM here, no SparkContext, no RDDs: the DataFrame API and pyspark.ml only).

The URL is `sc://HOST:PORT[/;param=value;...]`. The token is best left out
of it (a command line is visible to every user of the machine) and passed
in `SPARK_CONNECT_AUTHENTICATE_TOKEN`, which pyspark's client reads itself.
With a token and no TLS, pyspark's client sends it in clear only to the
host name `localhost` (gRPC local credentials); any other host gets TLS.
"""

from __future__ import annotations

import os
import re
import socket
from typing import TYPE_CHECKING

from jobs.errors import JobError, one_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
DEFAULT_PORT = 15002  # pyspark's, when the URL names none
_CONNECT_URL = re.compile(
    r"sc://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?/?(?:;[^;=]+=[^;]*)*"
)
_TOKEN = re.compile(r"(;token=)[^;]*")


def is_connect_url(master: str) -> bool:
    """`sc://HOST[:PORT][/;key=value...]`, the form pyspark's client takes."""
    match = _CONNECT_URL.fullmatch(master)
    return match is not None and (match.group(1) is None or 0 < int(match.group(1)) < 65536)


_LOOPBACK_ADDRESS = re.compile(r"127(?:\.\d{1,3}){3}|\[::1\]")
_HOST = re.compile(r"sc://(\[[^\]]*\]|[^:/;]*)")


def localhost_instead(url: str) -> str | None:
    """The URL with `localhost` for its loopback address, when a token goes with
    it (in the URL or the environment): pyspark's client sends a token without
    TLS only to the name `localhost` and tries TLS on any other host, which a
    server without TLS answers with nothing but minutes of retries. None when
    the URL is fine as it is (or asks for TLS itself: `;use_ssl=true`)."""
    host = _HOST.match(url)
    token = ";token=" in url or bool(os.environ.get(TOKEN_ENV))
    if not host or not token or ";use_ssl=true" in url.lower():
        return None
    if not _LOOPBACK_ADDRESS.fullmatch(host.group(1)):
        return None
    return f"sc://localhost{url[host.end() :]}"


def token_over_tls(url: str) -> str:
    """Why a loopback address with a token is refused (see `localhost_instead`)."""
    return (
        f"{redact(url)}: with a token, pyspark's client uses TLS for every host but localhost, "
        f"and SparkLab's server has none: use {redact(localhost_instead(url) or url)}"
    )


def redact(url: str) -> str:
    """The URL with its token, if any, replaced by `***` (for logs and results)."""
    return _TOKEN.sub(r"\1***", url)


def connect_session(url: str) -> SparkSession:
    """A Spark Connect session on `url`, checked with one round trip, so a
    server that is down or refuses the token fails here, in one line."""
    from pyspark.sql import SparkSession  # lazy: pyspark, loaded only when used

    if localhost_instead(url):
        raise JobError(token_over_tls(url))
    _check_listening(url)
    try:
        spark = SparkSession.builder.remote(url).getOrCreate()
        spark.version  # noqa: B018  the first call to the server
    except Exception as error:
        status, details = grpc_status(error)
        if status == "UNAUTHENTICATED":
            raise JobError(
                f"the Spark Connect server at {redact(url)} refused this client's token ({details}); "
                f"set {TOKEN_ENV}, or `;token=` in the URL (`./lab connect` prints it)"
            ) from None
        said = f"{status}: {details}" if status else one_line(error)
        raise JobError(f"no Spark Connect server answers at {redact(url)} ({said})") from None
    return spark


def _check_listening(url: str, timeout: float = 5) -> None:
    """Fail in seconds when nothing listens at the URL's address (pyspark's
    client would retry for minutes)."""
    match = _CONNECT_URL.fullmatch(url)
    host = url.removeprefix("sc://").split("/")[0].rsplit(":", 1)[0] if match else ""
    port = int(match.group(1) or DEFAULT_PORT) if match else DEFAULT_PORT
    try:
        socket.create_connection((host.strip("[]"), port), timeout=timeout).close()
    except OSError as error:
        raise JobError(
            f"no Spark Connect server answers at {redact(url)} ({_reason(error)}); "
            f"on the Compose cluster: `./lab up --connect`"
        ) from None


def _reason(error: OSError) -> str:
    return (error.strerror or str(error) or type(error).__name__).lower()


_GRPC_FIELD = re.compile(r"^\s*(status|details) = (.*)$", re.MULTILINE)


def grpc_status(error: BaseException) -> tuple[str, str]:
    """The gRPC status name and details of a failed call (pyspark wraps the
    gRPC error and keeps only its text), or ("", "") when there are none."""
    fields = dict(_GRPC_FIELD.findall(str(error)))
    return fields.get("status", "").removeprefix("StatusCode."), fields.get("details", "").strip('"')


def is_connect_session(spark) -> bool:
    """True for a Spark Connect session (no SparkContext behind it)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")
