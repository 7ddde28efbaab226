"""The benchmark: its plan and timing harness, the variants (the article's
way, SparkLab's, MLlib, numpy), and its report. `python -m jobs.bench`."""
