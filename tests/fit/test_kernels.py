"""The per-block kernels and their partial sums (jobs.fit.kernels), without Spark."""

import numpy as np
import pytest

from jobs.fit.kernels import (
    SUB_BLOCK_ROWS,
    Partials,
    cv_partials,
    gd_partials,
    raw_weights,
    read_pass_partials,
)


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


def gd_like(seed: int) -> Partials:
    rng = np.random.default_rng(seed)
    return Partials(rng.normal(size=12), 40.0, 3.5, 10.0, 1.25)


def cv_like(seed: int, k: int = 6) -> Partials:
    rng = np.random.default_rng(seed)
    return Partials(rng.normal(size=(12, k)), *(rng.uniform(1, 50, size=k) for _ in range(4)))


def test_gd_partials_flatten_to_16_floats_gradient_first_and_back():
    partials = gd_like(4)
    flat = partials.flatten()
    assert flat.dtype == np.float64
    np.testing.assert_array_equal(flat, [*partials.gradient, 40.0, 3.5, 10.0, 1.25])
    back = Partials.unflatten(flat, (12,))
    np.testing.assert_array_equal(back.gradient, partials.gradient)
    assert back.gradient.shape == (12,)
    assert back[1:] == (40.0, 3.5, 10.0, 1.25)
    assert all(type(stat) is float for stat in back[1:])  # as gd_partials returns them


def test_cv_partials_flatten_to_16k_floats_and_back():
    partials = cv_like(5, k=6)
    flat = partials.flatten()
    assert flat.shape == (12 * 6 + 4 * 6,)
    np.testing.assert_array_equal(flat[: 12 * 6].reshape(12, 6), partials.gradient)
    np.testing.assert_array_equal(flat[12 * 6 : 13 * 6], partials.train_count)
    back = Partials.unflatten(flat, (12, 6))
    for got, want in zip(back, partials, strict=True):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)


def test_partials_of_the_real_kernels_survive_the_round_trip():
    rng = np.random.default_rng(6)
    x, y, w = rng.normal(size=(30, 12)), rng.normal(size=30), rng.normal(size=12)
    mask = (rng.integers(0, 3, 30)[:, None] != np.arange(3)).astype(float)
    for partials, shape in (
        (gd_partials(x[:20], y[:20], x[20:], y[20:], w), (12,)),
        (cv_partials(x, y, mask, rng.normal(size=(12, 3))), (12, 3)),
    ):
        back = Partials.unflatten(partials.flatten(), shape)
        for got, want in zip(back, partials, strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("make", [gd_like, cv_like])
def test_adding_partials_sums_element_wise_not_concatenates(make):
    a, b = make(7), make(8)
    total = a + b
    assert isinstance(total, Partials)
    assert len(total) == 5
    for got, p, q in zip(total, a, b, strict=True):
        np.testing.assert_array_equal(got, np.asarray(p) + np.asarray(q))
    # What the all-reduce relies on: summing flat vectors is summing the partials.
    np.testing.assert_array_equal(total.flatten(), a.flatten() + b.flatten())


def plain_numpy_gd_partials(x, y, x_test, y_test, w):
    """The two-pass reference: the residual over all rows, then the gradient."""
    residual = x @ w - y
    test_residual = x_test @ w - y_test
    return x.T @ residual, residual @ residual, test_residual @ test_residual


@pytest.mark.parametrize(
    ("train_rows", "test_rows", "sub_block_rows"),
    [
        (64, 16, 16),  # whole sub-blocks only
        (63, 15, 16),  # one row short of a boundary
        (65, 17, 16),  # one row past a boundary
        (1, 1, 16),  # fewer rows than one sub-block
        (16, 0, 16),  # exactly one sub-block; no test rows
        (997, 211, 7),  # odd sizes, an odd sub-block
        (SUB_BLOCK_ROWS + 1, 2049, None),  # the default sub-block size, one row past it
    ],
)
def test_fused_gd_partials_equal_the_two_pass_numpy_reference(train_rows, test_rows, sub_block_rows):
    rng = np.random.default_rng(train_rows + test_rows)
    x, y = rng.normal(size=(train_rows, 12)), rng.normal(size=train_rows)
    x_test, y_test = rng.normal(size=(test_rows, 12)), rng.normal(size=test_rows)
    w = rng.normal(size=12)
    rows = {} if sub_block_rows is None else {"rows": sub_block_rows}
    got = gd_partials(x, y, x_test, y_test, w, **rows)
    gradient, train_sse, test_sse = plain_numpy_gd_partials(x, y, x_test, y_test, w)
    # The same products summed sub-block by sub-block: another order, so 1e-9.
    np.testing.assert_allclose(got.gradient, gradient, rtol=1e-9)
    np.testing.assert_allclose([got.train_sse, got.held_out_sse], [train_sse, test_sse], rtol=1e-9)
    assert (got.train_count, got.held_out_count) == (train_rows, test_rows)
    assert all(type(stat) is float for stat in got[1:])


def test_the_read_pass_sums_every_array_once_shaped_like_the_weights():
    rng = np.random.default_rng(9)
    arrays = (rng.normal(size=(40, 12)), rng.normal(size=40), rng.normal(size=(9, 12)), rng.normal(size=9))
    floor = read_pass_partials(arrays, np.zeros(12))
    np.testing.assert_allclose(floor.gradient, np.full(12, sum(a.sum() for a in arrays)), rtol=1e-12)
    assert floor.gradient.shape == (12,)
    assert tuple(floor[1:]) == (0.0, 0.0, 0.0, 0.0)
