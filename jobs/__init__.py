"""SparkLab's jobs: word count, gradient descent and k-fold cross-validation.

The three jobs (`wordcount`, `gd`, `cv`) and their command line (`cli`) sit at
the top; the rooms below hold what they are built from (see ARCHITECTURE.md).
Each job module has a pure core (numpy or plain Python), Spark transforms that
take an RDD or a session and return a small frozen dataclass, and an edge
(`run`, `main`) that does the I/O. Executors import this package, so it is
shipped to them as a zip by `jobs.runtime.session.build_session`.
"""
