"""The numeric core of the regression jobs: the per-block kernels and their
`Partials`, the fit loop (one Spark job per iteration, or one for the whole
fit) and the all-reduce the one-job fit talks to. Shipped to executors."""
