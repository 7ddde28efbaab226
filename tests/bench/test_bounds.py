"""jobs.bench.plan.bound_lines: the lines that end the benchmark's output, without Spark."""

from jobs.bench.plan import bound_lines

BOUNDS_HERE = {"cv_vs_single_fit": 1.2, "one_job_vs_per_iteration": 0.05}


def test_each_ratio_over_its_bound_gets_one_line_saying_by_how_much():
    lines = bound_lines({"cv_vs_single_fit": 1.75, "one_job_vs_per_iteration": 0.091}, BOUNDS_HERE)
    assert lines == [
        "cv_vs_single_fit 1.750 fell short of its bound <= 1.2: 0.550 over (46%)",
        "one_job_vs_per_iteration 0.091 fell short of its bound <= 0.05: 0.041 over (82%)",
    ]


def test_when_every_ratio_holds_one_line_says_so_and_names_the_bounds():
    lines = bound_lines({"cv_vs_single_fit": 1.08, "one_job_vs_per_iteration": 0.05}, BOUNDS_HERE)
    assert lines == ["every ratio held its bound (cv_vs_single_fit <= 1.2, one_job_vs_per_iteration <= 0.05)"]


def test_only_the_ratio_that_fell_short_is_named():
    lines = bound_lines({"cv_vs_single_fit": 1.19, "one_job_vs_per_iteration": 0.06}, BOUNDS_HERE)
    assert lines == ["one_job_vs_per_iteration 0.060 fell short of its bound <= 0.05: 0.010 over (20%)"]


def test_a_ratio_not_measured_is_said_and_not_counted_as_held():
    lines = bound_lines({"cv_vs_single_fit": 1.0, "one_job_vs_per_iteration": None}, BOUNDS_HERE)
    assert lines == [
        "one_job_vs_per_iteration was not measured in this run (bound <= 0.05)",
        "every measured ratio held its bound (cv_vs_single_fit <= 1.2)",
    ]
    short = bound_lines({"cv_vs_single_fit": 1.5}, BOUNDS_HERE)
    assert short == [
        "cv_vs_single_fit 1.500 fell short of its bound <= 1.2: 0.300 over (25%)",
        "one_job_vs_per_iteration was not measured in this run (bound <= 0.05)",
    ]
