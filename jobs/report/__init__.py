"""Output: atomic result files, result equality across runtimes, the run
report and its charts (matplotlib: host only, never shipped to executors)."""
