"""A helper package of wordfreq.py, imported inside executor tasks."""
