"""Resolving input paths (jobs.data.paths): one-line errors for what is missing."""

import pytest

from jobs.data.paths import expand_inputs
from jobs.errors import JobError


def test_glob_that_matches_nothing_is_an_error(tmp_path):
    with pytest.raises(JobError, match=r"nothing-\*\.txt: the glob matches no file"):
        expand_inputs([str(tmp_path / "nothing-*.txt")])


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(JobError, match=r"missing\.txt: no such file"):
        expand_inputs([str(tmp_path / "missing.txt")])
