"""Reading data: the paths a job is given, the row parser and split/fold
hashing, the cached train/test blocks of a table, seeded synthetic data, and
the wine file's download. Shipped to executors, except `download`."""
