"""The one error type a job raises for bad input or a bad setup.

Its message is a single line that names the file (and line) and says what is
wrong or what to run; `jobs.cli` prints it and exits non-zero, so the user
never has to read a Java stack trace to learn that a field is not a number.
"""


class JobError(Exception):
    """A user-facing failure: bad input, bad option, missing data or cluster."""

    exit_code = 2
