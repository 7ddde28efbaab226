"""Row parsing, the split and the folds (jobs.data.rows), without Spark."""

import numpy as np
import pytest

from jobs.data.rows import Moments, fold_ids, holdout_mask, parse_lines

COLUMNS = ["a", "b", "y"]


def test_split_depends_only_on_row_index():
    index = np.arange(10_000)
    whole = holdout_mask(index, 0.2, seed=7)
    pieces = np.concatenate([holdout_mask(chunk, 0.2, seed=7) for chunk in np.array_split(index, 7)])
    np.testing.assert_array_equal(whole, pieces)
    assert 0.18 < whole.mean() < 0.22
    assert not np.array_equal(whole, holdout_mask(index, 0.2, seed=8))


def test_folds_are_balanced_and_cover_every_fold():
    folds = fold_ids(np.arange(60_000), 6, seed=7)
    counts = np.bincount(folds, minlength=6)
    assert counts.min() > 9_500, counts
    assert counts.max() < 10_500, counts


def test_moments_merge_equals_numpy_on_the_whole():
    rng = np.random.default_rng(1)
    x = rng.normal(100, 3, size=(1001, 4))
    merged = Moments.of(x[:10]).merge(Moments.of(x[10:10])).merge(Moments.of(x[10:]))
    np.testing.assert_allclose(merged.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(merged.std, x.std(axis=0), rtol=1e-10)


def test_parse_lines_skips_header_and_blank_lines_and_numbers_rows():
    block = parse_lines([("a;b;y", 0), ("1;2;3", 1), ("", 2), ("4;5;6", 3)], COLUMNS)
    np.testing.assert_array_equal(block.index, [0, 2])
    np.testing.assert_array_equal(block.values, [[1, 2, 3], [4, 5, 6]])
    assert block.bad == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1;2", "line 6: expected 3 fields, found 2"),
        ("1;x;3", "line 6: column 2 ('b'): 'x' is not a number"),
        ("1;nan;3", "line 6: column 2 ('b'): 'nan' is not a finite number"),
    ],
)
def test_parse_lines_records_what_is_wrong_with_a_line(line, message):
    block = parse_lines([(line, 5)], COLUMNS)
    assert len(block.values) == 0
    ((number, what),) = block.bad
    assert f"line {number}: {what}" == message
