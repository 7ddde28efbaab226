"""Experiments a learner runs on the cluster, each answered by Spark's own numbers
(`./lab experiment --list`). The Spark parts run in the driver and write JSON;
the host draws the pages (page.py, matplotlib: never on executors)."""
