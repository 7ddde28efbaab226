"""`python -m jobs JOB ...` or `spark-submit jobs/__main__.py JOB ...`."""

import sys

from jobs.cli import main

if __name__ == "__main__":
    sys.exit(main())
