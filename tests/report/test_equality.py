"""jobs.report.equality.difference: what `compare` and the run report call equal (no Spark)."""

import copy

import pytest

from jobs.report.equality import RTOL, difference

GD = {
    "weights": [5.9, 0.1, -0.2],
    "raw_weights": [150.0, 0.06, -1.9],
    "train_mse": [0.9, 0.7, 0.6],
    "test_mse": [0.95, 0.75, 0.65],
}
CV = {
    "mean_train_mse": [0.9, 0.7],
    "mean_val_mse": [1.0, 0.8],
    "folds": [
        {"fold": j, "weights": [5.9, 0.1 * j], "train_mse": [0.9, 0.7], "val_mse": [1.0, 0.8]}
        for j in range(3)
    ],
}


def changed(payload: dict, key: str, index: int, factor: float) -> dict:
    other = copy.deepcopy(payload)
    other[key][index] *= factor
    return other


def test_equal_word_counts_are_equal():
    counts = {"peck": 5, "Peter": 4}
    assert difference("wordcount", {"counts": counts}, {"counts": dict(counts)}) is None


def test_word_counts_that_differ_name_the_words():
    expected = {"counts": {"a": 1, "b": 2, "c": 3}}
    actual = {"counts": {"a": 1, "b": 5, "d": 3}}
    assert difference("wordcount", expected, actual) == (
        "word counts differ: 2 words in one only ['c', 'd'], 1 counts differ ['b']"
    )


@pytest.mark.parametrize("job", ["gd", "cv"])
def test_identical_payloads_are_equal(job):
    payload = GD if job == "gd" else CV
    assert difference(job, payload, copy.deepcopy(payload)) is None


def test_a_difference_within_rtol_is_equal():
    # 1e-10 relative: partial sums met in another order.
    assert difference("gd", GD, changed(GD, "weights", 1, 1 + 1e-10)) is None


def test_a_difference_beyond_rtol_names_the_array_and_the_size():
    assert difference("gd", GD, changed(GD, "test_mse", 2, 1 + 1e-7)) == (
        f"test_mse: differs by 1e-07 relative (allowed {RTOL:g})"
    )


def test_the_rtol_argument_loosens_the_check():
    assert difference("gd", GD, changed(GD, "test_mse", 2, 1 + 1e-7), rtol=1e-6) is None


def test_a_shape_difference_is_reported_not_broadcast():
    shorter = copy.deepcopy(GD)
    shorter["train_mse"] = shorter["train_mse"][:2]
    assert difference("gd", GD, shorter) == "train_mse: shape (3,) against (2,)"
    single = copy.deepcopy(GD)
    single["weights"] = [5.9]  # would broadcast against (3,) in np.allclose
    assert difference("gd", GD, single) == "weights: shape (3,) against (1,)"


def test_one_folds_weights_differing_names_the_fold():
    other = copy.deepcopy(CV)
    other["folds"][2]["weights"][1] *= 1.001
    assert difference("cv", CV, other) == "fold 2 weights: differs by 0.001 relative (allowed 1e-09)"


def test_a_different_number_of_folds_is_a_difference_either_way():
    more = copy.deepcopy(CV)
    more["folds"].append({**copy.deepcopy(CV["folds"][0]), "fold": 3})
    assert difference("cv", CV, more).startswith("different parts: ['fold 3 train_mse', ")
    assert difference("cv", more, CV).startswith("different parts: ['fold 3 train_mse', ")


MLLIB = {
    "fits": {
        "normal": {"raw_weights": [150.0, 0.06, -1.9], "train_mse": 0.56, "test_mse": 0.58},
        "l-bfgs": {"raw_weights": [150.0, 0.06, -1.9], "train_mse": 0.56, "test_mse": 0.58},
    },
    "cv": {"mean_val_mse": 0.57},
}


def test_mllib_results_compare_each_solver_and_the_cv_error():
    assert difference("mllib", MLLIB, copy.deepcopy(MLLIB)) is None
    other = copy.deepcopy(MLLIB)
    other["fits"]["l-bfgs"]["raw_weights"][2] *= 1 + 1e-6
    assert difference("mllib", MLLIB, other).startswith("l-bfgs raw_weights: differs by 1e-06 relative")
    other = copy.deepcopy(MLLIB)
    other["cv"]["mean_val_mse"] *= 1.01
    assert difference("mllib", MLLIB, other).startswith("cv mean_val_mse: differs by")
