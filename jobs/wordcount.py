"""Word count: `flatMap` + `reduceByKey`, the article's first job.

spark-submit jobs/__main__.py wordcount --input 'data/peter_piper.txt' --top 10
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from operator import add
from typing import TYPE_CHECKING

from jobs.data.paths import read_lines

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

_PUNCTUATION = string.punctuation + "“”‘’«»—–…"


@dataclass(frozen=True)
class Tokenizer:
    """How a line becomes words: `str.split` like the article, then options."""

    lower: bool = False
    strip_punct: bool = False

    def __call__(self, line: str) -> list[str]:
        words = line.split()
        if self.lower:
            words = [w.lower() for w in words]
        if self.strip_punct:
            words = [w.strip(_PUNCTUATION) for w in words]
            words = [w for w in words if w]
        return words


@dataclass(frozen=True)
class WordCountResult:
    counts: dict[str, int]
    top: list[tuple[str, int]]
    files: list[str]
    total_words: int


def top_words(counts: dict[str, int], n: int) -> list[tuple[str, int]]:
    """The `n` most frequent words; ties broken alphabetically so the order is stable."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def count_words(lines: RDD[str], tokenizer: Tokenizer) -> dict[str, int]:
    """Count words across an RDD of lines: one job, two stages (map side, reduce side)."""
    pairs = lines.flatMap(tokenizer).map(lambda word: (word, 1))
    return dict(pairs.reduceByKey(add).collect())


def run(
    spark: SparkSession,
    files: list[str],
    *,
    top: int = 10,
    tokenizer: Tokenizer = Tokenizer(),
    partitions: int | None = None,
) -> WordCountResult:
    sc = spark.sparkContext
    lines = read_lines(sc, files, partitions or sc.defaultParallelism)
    counts = count_words(lines, tokenizer)
    return WordCountResult(
        counts=counts,
        top=top_words(counts, top),
        files=files,
        total_words=sum(counts.values()),
    )


def counter_reference(texts: Iterable[str], tokenizer: Tokenizer) -> dict[str, int]:
    """The same counts without Spark, for checking (collections.Counter)."""

    counter: Counter[str] = Counter()
    for text in texts:
        for line in text.splitlines():
            counter.update(tokenizer(line))
    return dict(counter)


def to_json(result: WordCountResult) -> dict:
    return {
        "files": result.files,
        "total_words": result.total_words,
        "distinct_words": len(result.counts),
        "top": [[word, count] for word, count in result.top],
        "counts": dict(sorted(result.counts.items())),
    }
