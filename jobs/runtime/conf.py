"""One setting of a running application, read where it is needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark import SparkContext


def conf_value(sc: SparkContext, key: str, default: str | None = None) -> str | None:
    """`key` of the running application's configuration. Not `sc.getConf().get`:
    getConf copies every setting through py4j first, about 70 ms here (two
    such reads were most of a one-job fit's fixed cost)."""
    return sc._conf.get(key, default)
