"""The Spark runtime: building a session (local or cluster), failing fast on a
standalone master, Spark's own metrics of a run, and the version probe."""
