"""The pure numpy core of reading a table: hashing rows to splits and folds,
parsing a block of CSV lines, mergeable moments and the design matrix.

Nothing here knows about Spark, so it is tested alone and reused as the
reference implementation's building blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        return x ^ (x >> np.uint64(31))


def unit_hash(index: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) for each row index, fixed by (index, salt).

    Split and fold assignment hang on the row's position in the file alone,
    so they are the same whatever the partitioning and wherever a task runs.
    """
    salted = np.asarray(index, dtype=np.uint64) ^ _splitmix64(np.array([salt], np.uint64))
    return (_splitmix64(salted) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def holdout_mask(index: np.ndarray, test_fraction: float, seed: int) -> np.ndarray:
    return unit_hash(index, 2 * seed) < test_fraction


def fold_ids(index: np.ndarray, folds: int, seed: int) -> np.ndarray:
    return np.minimum((unit_hash(index, 2 * seed + 1) * folds).astype(np.int64), folds - 1)


# The largest magnitude a value may have: squares (1e200) and their sums over
# billions of rows stay finite in float64, so losses, moments and the
# result's JSON never hold inf. Larger values are refused up front, with
# their line, never after the fit.
MAX_ABS = 1e100


@dataclass(frozen=True)
class ParsedBlock:
    """One partition's rows: their 0-based data-row index, values, and bad lines."""

    index: np.ndarray  # int64 (n,)
    values: np.ndarray  # float64 (n, columns)
    bad: list[tuple[int, str]]  # (1-based line number in the file, what is wrong)


def parse_lines(
    numbered_lines: Iterable[tuple[str, int]], columns: list[str], delimiter: str = ";"
) -> ParsedBlock:
    """Parse `(line, line_index)` pairs; line 0 is the header and is skipped.

    Blank lines are ignored. A bad line is recorded, never raised here: the
    driver decides whether to stop on it or skip it and count it.
    """
    index: list[int] = []
    rows: list[list[float]] = []
    bad: list[tuple[int, str]] = []
    width = len(columns)
    for line, line_index in numbered_lines:
        if line_index == 0 or not line.strip():
            continue
        fields = line.split(delimiter)
        if len(fields) != width:
            bad.append((line_index + 1, f"expected {width} fields, found {len(fields)}"))
            continue
        try:
            row = [float(field) for field in fields]
        except ValueError:
            column = next(j for j, field in enumerate(fields) if not _is_float(field))
            bad.append(
                (
                    line_index + 1,
                    f"column {column + 1} ({columns[column]!r}): {fields[column].strip()!r} is not a number",
                )
            )
            continue
        if not all(np.isfinite(row)):
            column = next(j for j, value in enumerate(row) if not np.isfinite(value))
            bad.append(
                (
                    line_index + 1,
                    f"column {column + 1} ({columns[column]!r}): "
                    f"{fields[column].strip()!r} is not a finite number",
                )
            )
            continue
        if any(abs(value) > MAX_ABS for value in row):
            column = next(j for j, value in enumerate(row) if abs(value) > MAX_ABS)
            bad.append(
                (
                    line_index + 1,
                    f"column {column + 1} ({columns[column]!r}): {fields[column].strip()!r} is too large "
                    f"(beyond ±{MAX_ABS:g}, its square and sums would overflow)",
                )
            )
            continue
        index.append(line_index - 1)
        rows.append(row)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    return ParsedBlock(np.array(index, dtype=np.int64), values, bad)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations, mergeable across partitions
    (Chan et al.), so standardization needs one pass and stays accurate."""

    n: int
    mean: np.ndarray
    m2: np.ndarray

    @staticmethod
    def of(x: np.ndarray) -> Moments:
        if len(x) == 0:
            return Moments(0, np.zeros(x.shape[1]), np.zeros(x.shape[1]))
        mean = x.mean(axis=0)
        return Moments(len(x), mean, ((x - mean) ** 2).sum(axis=0))

    def merge(self, other: Moments) -> Moments:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.n * other.n / n)
        return Moments(n, mean, m2)

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation (numpy's default, ddof=0)."""
        return np.sqrt(self.m2 / self.n)


def design_matrix(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Standardized features with a leading column of ones for the bias."""
    out = np.empty((features.shape[0], features.shape[1] + 1))
    out[:, 0] = 1.0
    np.divide(features - mean, std, out=out[:, 1:])
    return out
