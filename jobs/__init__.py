"""SparkLab's jobs: word count, gradient descent and k-fold cross-validation.

Each job module has a pure core (numpy or plain Python), Spark transforms that
take an RDD or a session and return a small frozen dataclass, and an edge
(`run`, `main`) that does the I/O. Executors import this package, so it is
shipped to them as a zip by `jobs.session.build_session`.
"""
