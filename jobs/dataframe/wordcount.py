"""Word count on the DataFrame API: split, explode, groupBy, count.

The same words as the RDD job (`jobs.wordcount`): lines split on every
character Python's `str.split()` takes for whitespace, then the same
options (`Tokenizer`), all as Spark SQL functions (no Python UDF).

    python -m jobs wordcount --master sc://localhost:15002 --input /sparklab/data/peter_piper.txt
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from jobs.wordcount import _PUNCTUATION, Tokenizer, WordCountResult, top_words

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _char_class(chars: str) -> str:
    """A Java regex character class of exactly these characters."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(set(chars))) + "]"


# str.split() splits on runs of these (Unicode whitespace, \x1c-\x1f and
# \x85 included); Java's \s would miss most of them.
WHITESPACE = _char_class("".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())) + "+"
PUNCTUATION = _char_class(_PUNCTUATION)
PLAIN = Tokenizer()  # str.split, nothing else: the article's words


def count_words(lines: DataFrame, tokenizer: Tokenizer = PLAIN) -> dict[str, int]:
    """Count the words of a DataFrame of lines (column `value`): one job, an
    aggregation on each side of a shuffle, as the RDD job's reduceByKey."""
    from pyspark.sql import functions as F  # lazy: pyspark, loaded only when used

    word = F.explode(F.split(F.col("value"), WHITESPACE)).alias("word")
    words = lines.select(word).where(F.col("word") != "")
    if tokenizer.lower:
        words = words.select(F.lower("word").alias("word"))
    if tokenizer.strip_punct:
        stripped = F.regexp_replace("word", f"^{PUNCTUATION}+|{PUNCTUATION}+$", "")
        words = words.select(stripped.alias("word")).where(F.col("word") != "")
    return {row["word"]: row["count"] for row in words.groupBy("word").count().collect()}


def run(
    spark: SparkSession,
    files: list[str],
    *,
    top: int = 10,
    tokenizer: Tokenizer = PLAIN,
    partitions: int | None = None,
) -> WordCountResult:
    """Read the files as the session's driver sees them (a Connect server's
    paths on a Connect session) and count their words."""
    lines = spark.read.text(files)
    if partitions:
        lines = lines.repartition(partitions)
    counts = count_words(lines, tokenizer)
    return WordCountResult(
        counts=counts, top=top_words(counts, top), files=files, total_words=sum(counts.values())
    )
