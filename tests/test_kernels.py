"""The pure core, without Spark."""

import numpy as np
import pytest

from jobs.data.rows import Moments, fold_ids, holdout_mask, parse_lines
from jobs.fit.kernels import cv_partials, raw_weights

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


def test_cv_partials_mask_each_rows_own_fold():
    rng = np.random.default_rng(2)
    x, y, w = rng.normal(size=(50, 3)), rng.normal(size=50), rng.normal(size=(3, 4))
    mask = (rng.integers(0, 4, 50)[:, None] != np.arange(4)).astype(float)
    grad, n, sse, n_val, val_sse = cv_partials(x, y, mask, w)
    for j in range(4):
        train = mask[:, j] == 1
        r = x @ w[:, j] - y
        np.testing.assert_allclose(grad[:, j], x[train].T @ r[train], rtol=1e-12)
        assert n[j] == train.sum()
        assert n_val[j] == (~train).sum()
        np.testing.assert_allclose(
            [sse[j], val_sse[j]], [r[train] @ r[train], r[~train] @ r[~train]], rtol=1e-12
        )


def test_raw_weights_predict_like_standardized_weights():
    rng = np.random.default_rng(3)
    x = rng.normal(5, 2, size=(20, 3))
    mean, std, w = x.mean(0), x.std(0), rng.normal(size=4)
    standardized = w[0] + ((x - mean) / std) @ w[1:]
    raw = raw_weights(w, mean, std)
    np.testing.assert_allclose(raw[0] + x @ raw[1:], standardized, rtol=1e-12)
