"""The one-pass-cv page's figures and answer from hand-made numbers; a fold's block without Spark."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.data.rows import fold_ids
from jobs.data.table import Block
from jobs.experiments import one_pass_cv
from tests.experiments.builders import job


def measured(
    one_fit: float, costs: dict[int, tuple[float, float]], iterations: int = 2, difference=1e-14
) -> dict:
    """{k: (one pass's seconds, the k fits' seconds)}, spread evenly over their jobs; each
    k's own single fit took `one_fit` seconds."""
    jobs, runs = [], []
    for k, (one_pass, sequential) in costs.items():
        groups = {way: f"cv/{way}-{k}" for way in one_pass_cv.WAYS}
        runs.append({"k": k, **groups})
        jobs += [job(len(jobs) + i, groups["one_fit"], [], one_fit / iterations) for i in range(iterations)]
        jobs += [job(len(jobs) + i, groups["one_pass"], [], one_pass / iterations) for i in range(iterations)]
        jobs += [
            job(len(jobs) + i, groups["sequential"], [], sequential / (k * iterations))
            for i in range(k * iterations)
        ]
    return {
        "plan": {"folds": list(costs), "iterations": iterations, "partitions": 2},
        "runs": runs,
        "max_relative_difference": difference,
        "numbers": {"jobs": jobs, "stages": [], "tasks": [], "executors": []},
    }


def test_ratios_are_against_one_fits_job_seconds():
    summary = one_pass_cv.summarize(measured(2.0, {2: (3.0, 4.0), 6: (7.0, 12.0)}))
    two, six = summary["rows"]
    assert (two["one_pass_ratio"], two["sequential_ratio"]) == pytest.approx((1.5, 2.0))
    assert (six["one_pass_jobs"], six["sequential_jobs"]) == (2, 12)
    assert summary["one_fit"]["jobs"] == 2
    assert [row["one_fit_seconds"] for row in summary["rows"]] == pytest.approx([2.0, 2.0])


def test_each_k_is_compared_with_the_fit_run_beside_it():
    result = measured(1.0, {2: (1.5, 2.0), 6: (3.0, 6.0)})
    for entry in result["numbers"]["jobs"]:  # the session's first fit ran cold: twice as long
        if entry["group"] == "cv/one_fit-2":
            entry["seconds"] *= 2
    two, six = one_pass_cv.summarize(result)["rows"]
    assert (two["one_pass_ratio"], six["one_pass_ratio"]) == pytest.approx((0.75, 3.0))


def test_the_answer_compares_k_6_with_the_articles_ratio():
    matched = one_pass_cv.summarize(measured(1.0, {2: (1.5, 2.0), 6: (3.4, 6.0)}))["answer"]
    assert "For k = 6: one pass cost 3.40x one fit" in matched
    assert "6 sequential fits 6.00x" in matched
    assert "matched here (within 25%)" in matched
    missed = one_pass_cv.summarize(measured(1.0, {2: (1.1, 2.0), 6: (1.3, 6.0)}))["answer"]
    assert "not what this machine shows (1.30x)" in missed
    assert "Each further model added 0.05 of a fit to the one pass and 1.00 to the sequential" in missed


def test_without_k_6_the_answer_uses_the_largest_k_and_no_article_claim():
    answer = one_pass_cv.summarize(measured(1.0, {2: (1.2, 2.0), 3: (1.3, 3.0)}))["answer"]
    assert "For k = 3:" in answer
    assert "article" not in answer


def test_models_that_differ_are_called_out():
    answer = one_pass_cv.summarize(measured(1.0, {2: (1.2, 2.0)}, difference=0.1))["answer"]
    assert "they DIFFER" in answer


def test_a_folds_block_trains_on_the_other_folds_and_holds_its_own_out():
    rng = np.random.default_rng(3)
    index = np.arange(100, 160)
    block = Block(index, rng.standard_normal((60, 3)), rng.standard_normal(60), np.empty((0, 3)), np.empty(0))
    ids = fold_ids(index, 4, one_pass_cv.SEED)
    for fold in range(4):
        mine = one_pass_cv.fold_block(block, 4, fold)
        np.testing.assert_array_equal(mine.train_index, index[ids != fold])
        np.testing.assert_array_equal(mine.x_test, block.x_train[ids == fold])
        assert len(mine.y_train) + len(mine.y_test) == 60
