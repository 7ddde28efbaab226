"""The skew page's figures and answer from hand-made numbers; the words without Spark."""

from __future__ import annotations

import pytest

from jobs.experiments import skew
from tests.experiments.builders import job, stage, task

GROUPS = {variant: f"skew/{variant}" for variant in skew.VARIANTS}


def measured(reduce_times: dict[str, list[float]], job_seconds: dict[str, float], same: bool = True) -> dict:
    """Per variant: a map stage and the stage that receives the words (its tasks' times)."""
    jobs, stages, tasks = [], [], []
    for variant, times in reduce_times.items():
        map_id, reduce_id = len(stages), len(stages) + 1
        jobs.append(job(len(jobs), GROUPS[variant], [map_id, reduce_id], job_seconds[variant]))
        stages.append(stage(map_id, 0.5, shuffle_write_bytes=1000))
        stages.append(stage(reduce_id, max(times) + 0.1, shuffle_read_bytes=100 * len(times)))
        tasks += [task(map_id, 0, 0.4)]
        tasks += [task(reduce_id, i, t, shuffle_read_bytes=100) for i, t in enumerate(times)]
    return {
        "plan": {
            "words": 100,
            "hot_share": 0.5,
            "vocabulary": 10,
            "map_tasks": 2,
            "reduce_tasks": 4,
            "salts": 4,
        },
        "total_words": 100,
        "hot_count": 50,
        "same_counts": same,
        "groups": GROUPS,
        "numbers": {"jobs": jobs, "stages": stages, "tasks": tasks, "executors": []},
    }


def test_the_hot_task_is_found_in_the_stage_that_reads_the_words():
    result = measured(
        {"grouped": [4.0, 1.0, 1.0, 1.0], "salted": [1.5, 1.5, 1.0, 1.0], "combined": [0.5] * 4},
        {"grouped": 5.0, "salted": 3.0, "combined": 1.0},
    )
    grouped, salted, combined = skew.summarize(result)["rows"]
    assert (grouped["task_max_seconds"], grouped["task_median_seconds"], grouped["max_over_median"]) == (
        4.0,
        1.0,
        4.0,
    )
    assert grouped["longest_time_share"] == pytest.approx(4 / 7)
    assert grouped["longest_stage_share"] == pytest.approx(4.0 / 4.1)
    assert grouped["task_seconds"] == [4.0, 1.0, 1.0, 1.0]  # the map stage's task is not among them
    assert salted["max_over_median"] == pytest.approx(1.2)
    assert combined["stage_seconds"] == pytest.approx(0.6)


def test_the_answer_says_salting_won_when_it_did():
    result = measured(
        {"grouped": [4.0, 1.0, 1.0, 1.0], "salted": [1.5, 1.5, 1.0, 1.0], "combined": [0.5] * 4},
        {"grouped": 5.0, "salted": 2.5, "combined": 1.0},
    )
    answer = skew.summarize(result)["answer"]
    assert "50 of 100 words (50%) were 'spark'" in answer
    assert "4.00 s against a median of 1.00 s (4.0x)" in answer
    assert "98% of it that one task" in answer
    assert "2.00x faster" in answer


def test_the_answer_says_salting_lost_when_it_did():
    result = measured(
        {"grouped": [1.1, 1.0, 1.0, 1.0], "salted": [1.0] * 4, "combined": [0.5] * 4},
        {"grouped": 2.0, "salted": 4.0, "combined": 1.0},
    )
    answer = skew.summarize(result)["answer"]
    assert "no faster (0.50x)" in answer
    assert "The three counts DIFFER" not in answer


def test_different_counts_are_reported_as_a_bug():
    result = measured({v: [1.0] * 4 for v in skew.VARIANTS}, dict.fromkeys(skew.VARIANTS, 1.0), same=False)
    assert "The three counts DIFFER" in skew.summarize(result)["answer"]


def test_the_words_are_seeded_split_over_the_map_tasks_and_mostly_hot():
    plan = skew.Plan(words=10_001, hot_share=0.5, vocabulary=50, map_tasks=3, reduce_tasks=4, salts=4)
    parts = [skew.words_of(p, plan) for p in range(plan.map_tasks)]
    assert sum(map(len, parts)) == plan.words
    assert parts[0] == skew.words_of(0, plan)  # the same words when a lost partition is recomputed
    hot = sum(part.count(skew.HOT) for part in parts) / plan.words
    assert 0.45 < hot < 0.55  # 10,001 draws at 0.5: four standard deviations is 0.02


def test_salted_pairs_spread_one_word_over_every_salt():
    keys = [key for key, _ in skew.salted_pairs(1, ["spark"] * 8, salts=4)]
    assert sorted(keys) == sorted([("spark", s) for s in range(4)] * 2)


def test_a_reduce_task_counts_what_it_received():
    assert sorted(skew.count_pairs([("a", 1), ("b", 1), ("a", 1)])) == [("a", 2), ("b", 1)]
