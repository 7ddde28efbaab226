"""The benchmark's variants: SparkLab's jobs against the article's way, Spark MLlib, the
numpy floor and Spark's own scheduling floor, measured side by side in one
run (variants interleaved, repeated), every variant checked equal first.
The command line is `jobs.bench.__main__`; the plan and the timing harness
are in `jobs.bench.plan`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from jobs.bench import article
from jobs.bench.plan import (
    ARTICLE,
    Measured,
    Plan,
    jvm_counters,
    machine,
)
from jobs.bench.scaling import check, numpy_gd, run_scaling
from jobs.cv import cross_validate
from jobs.data.rows import fold_ids
from jobs.data.table import Block, RegressionData, load_table
from jobs.errors import last_line
from jobs.gd import baseline_weights, fit_gd
from jobs.options import join_runs
from jobs.report.failure import ERROR_RECORD_ENV
from jobs.runtime.run_tags import BENCH, submit_args

SEED = 7  # the folds' seed of every CV variant


def _arrays(data: RegressionData):
    blocks = data.blocks.collect()
    return (
        np.concatenate([b.x_train for b in blocks]),
        np.concatenate([b.y_train for b in blocks]),
        np.concatenate([b.x_test for b in blocks]),
        np.concatenate([b.y_test for b in blocks]),
    )


def _mllib_frame(spark, x, y):
    from pyspark.ml.linalg import Vectors  # lazy: pyspark, loaded only when used

    rows = [(Vectors.dense(features[1:]), float(target)) for features, target in zip(x, y, strict=True)]
    frame = spark.createDataFrame(rows, ["features", "label"])
    return frame.repartition(spark.sparkContext.defaultParallelism).cache()


def _mllib_fit(frame, solver: str, iterations: int):
    from pyspark.ml.regression import LinearRegression  # lazy: pyspark, loaded only when used

    model = LinearRegression(
        solver=solver, maxIter=max(iterations, 100), regParam=0.0, standardization=False, tol=1e-9
    ).fit(frame)
    return np.concatenate([[model.intercept], model.coefficients.toArray()])


def _mllib_cv(frame, folds: int, parallelism: int, solver: str):
    from pyspark.ml.evaluation import RegressionEvaluator  # lazy: pyspark, loaded only when used
    from pyspark.ml.regression import LinearRegression  # lazy: pyspark, loaded only when used
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder  # lazy: pyspark, loaded only when used

    lr = LinearRegression(solver=solver, regParam=0.0, standardization=False)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0]).build()
    cv = CrossValidator(
        estimator=lr,
        estimatorParamMaps=grid,
        evaluator=RegressionEvaluator(metricName="mse"),
        numFolds=folds,
        parallelism=parallelism,
        seed=7,
    )
    return cv.fit(frame).avgMetrics[0]


def _fold_data(data: RegressionData, folds: int, seed: int, j: int) -> RegressionData:
    """The train split restricted to model j's training rows; its validation rows as 'test'."""

    def restrict(b: Block) -> Block:
        fold = fold_ids(b.train_index, folds, seed)
        keep = fold != j
        return Block(
            b.train_index[keep], b.x_train[keep], b.y_train[keep], b.x_train[~keep], b.y_train[~keep]
        )

    blocks = data.blocks.map(restrict).cache()
    n = blocks.map(lambda b: len(b.y_train)).sum()
    return replace(data, blocks=blocks, n_train=int(n), n_test=data.n_train - int(n))


@dataclass(frozen=True)
class Workload:
    """What every variant fits: the cached table, its arrays, the article's
    records, the k folds' tables, MLlib's frame (None without MLlib)."""

    data: RegressionData
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x, y, x_test, y_test
    w0: np.ndarray
    records: tuple[Any, Any]  # the article's train and test records
    fold_sets: list[RegressionData]
    frame: Any


def run_bench(spark, wine_csv: str, plan: Plan, *, echo: bool = True) -> dict:
    sc = spark.sparkContext
    say = (lambda text: print(f"bench: {text}", file=sys.stderr)) if echo else (lambda text: None)
    partitions = sc.defaultParallelism
    work = check_the_variants_agree(spark, load_table(spark, wine_csv, partitions=partitions), plan, say)
    measured = measure_variants(sc, work, plan, partitions, echo, say)
    scaling, scaling_left_out = run_scaling(sc, plan, partitions, say)
    ratios = _ratios(measured, scaling, plan.iterations)
    cli, alone, encryption = measure_the_command_line(sc, wine_csv, plan, partitions, measured, ratios, say)
    return {
        "machine": machine(spark),
        "plan": plan.__dict__ | {"sizes": list(plan.sizes)},
        "partitions": partitions,
        "article": ARTICLE,
        "timings": measured.summary(),
        "scaling": scaling,
        "scaling_left_out": scaling_left_out,
        "ratios": ratios,
        "cli_gd_timing": cli,
        "cli_gd_timing_local": alone,
        "encryption_cost": encryption,
    }


def check_the_variants_agree(spark, data: RegressionData, plan: Plan, say) -> Workload:
    """Every variant's answer, checked against SparkLab's before any time counts."""
    sc = spark.sparkContext
    it, lr, k, seed = plan.iterations, plan.lr, plan.folds, SEED
    w0 = baseline_weights(data)
    say("checking that the variants agree")
    gd = fit_gd(sc, data, iterations=it, lr=lr)
    x, y, x_test, y_test = _arrays(data)
    w_np, train_np, _ = numpy_gd(x, y, x_test, y_test, w0, it, lr)
    check("numpy GD", w_np, gd.weights)
    check("numpy GD losses", train_np, gd.train_mse)
    train_rec, test_rec = article.records(data)
    w_art, train_art, _ = article.article_gd(sc, train_rec, test_rec, w0, iterations=it, lr=lr)
    check("the article's GD", w_art, gd.weights)
    check("the article's GD losses", train_art, gd.train_mse)
    one_job = fit_gd(sc, data, iterations=it, lr=lr, one_job=True)
    check("the one-job GD", one_job.weights, gd.weights)
    check(
        "the one-job CV",
        [
            f.weights
            for f in cross_validate(sc, data, folds=k, iterations=it, lr=lr, seed=seed, one_job=True).folds
        ],
        [f.weights for f in cross_validate(sc, data, folds=k, iterations=it, lr=lr, seed=seed).folds],
    )
    exact, *_ = np.linalg.lstsq(x, y, rcond=None)
    cv = cross_validate(sc, data, folds=k, iterations=it, lr=lr, seed=seed)
    models_art, val_art = article.article_cv(sc, train_rec, w0, folds=k, seed=seed, iterations=it, lr=lr)
    check("the article's CV", np.array(models_art), np.array([f.weights for f in cv.folds]))
    check("the article's CV losses", val_art, cv.mean_val_mse)
    fold_sets = [_fold_data(data, k, seed, j) for j in range(k)]
    for j, fold_set in enumerate(fold_sets):
        check(f"sequential fit {j}", fit_gd(sc, fold_set, iterations=it, lr=lr).weights, cv.folds[j].weights)
    frame = None
    if plan.mllib:
        frame = _mllib_frame(spark, x, y)
        # MLlib solves least squares to convergence, not `it` GD steps: it is
        # checked against the closed form instead (l-bfgs to its tolerance).
        check("MLlib normal", _mllib_fit(frame, "normal", it), exact, rtol=1e-6)
        check("MLlib l-bfgs", _mllib_fit(frame, "l-bfgs", it), exact, rtol=1e-3)
    return Workload(data, (x, y, x_test, y_test), w0, (train_rec, test_rec), fold_sets, frame)


def measure_variants(sc, work: Workload, plan: Plan, partitions: int, echo: bool, say) -> Measured:
    """GD's and CV's variants, interleaved and repeated; the cached data released after."""
    data, frame, fold_sets = work.data, work.frame, work.fold_sets
    (x, y, x_test, y_test), w0, (train_rec, test_rec) = work.arrays, work.w0, work.records
    it, lr, k, seed = plan.iterations, plan.lr, plan.folds, SEED
    empty = sc.parallelize(range(partitions), partitions).cache()
    empty.count()

    def empty_jobs():
        for _ in range(it):
            # The input is read to its end: a Python task that leaves input
            # unread loses its worker process, which would bias the floor.
            empty.map(lambda row: row).collect()

    measured = Measured(jvm=jvm_counters(sc))
    say(f"GD: {it} iterations, {plan.repeats} interleaved rounds")
    gd_variants = {
        "gd/article": lambda: article.article_gd(sc, train_rec, test_rec, w0, iterations=it, lr=lr),
        "gd/sparklab": lambda: fit_gd(sc, data, iterations=it, lr=lr),
        "gd/sparklab_one_job": lambda: fit_gd(sc, data, iterations=it, lr=lr, one_job=True),
        "gd/numpy": lambda: numpy_gd(x, y, x_test, y_test, w0, it, lr),
        "gd/empty_jobs": empty_jobs,
    }
    if frame is not None:
        gd_variants["gd/mllib_lbfgs"] = lambda: _mllib_fit(frame, "l-bfgs", it)
        gd_variants["gd/mllib_normal"] = lambda: _mllib_fit(frame, "normal", it)
    measured.run(gd_variants, plan.repeats, echo)

    say(f"CV: {k} folds x {it} iterations")
    cv_variants = {
        "cv/article": lambda: article.article_cv(sc, train_rec, w0, folds=k, seed=seed, iterations=it, lr=lr),
        "cv/sparklab": lambda: cross_validate(sc, data, folds=k, iterations=it, lr=lr, seed=seed),
        # One model's fit right after, in the same rounds: cv_vs_single_fit sets
        # the k-model pass against it, not against the GD rounds minutes earlier
        # (whatever drifts between the two phases would count as the CV's cost).
        "cv/single_fit": lambda: fit_gd(sc, data, iterations=it, lr=lr),
        "cv/sparklab_one_job": lambda: cross_validate(
            sc, data, folds=k, iterations=it, lr=lr, seed=seed, one_job=True
        ),
        "cv/sequential_fits": lambda: [fit_gd(sc, f, iterations=it, lr=lr) for f in fold_sets],
    }
    if frame is not None:
        cv_variants["cv/mllib_normal_p1"] = lambda: _mllib_cv(frame, k, 1, "normal")
        cv_variants["cv/mllib_normal_p2"] = lambda: _mllib_cv(frame, k, 2, "normal")
        cv_variants["cv/mllib_lbfgs_p1"] = lambda: _mllib_cv(frame, k, 1, "l-bfgs")
    measured.run(cv_variants, plan.repeats, echo)
    for cached in (train_rec, test_rec, empty, data.blocks, *(f.blocks for f in fold_sets)):
        cached.unpersist()
    if frame is not None:
        frame.unpersist()
    return measured


def measure_the_command_line(
    sc, wine_csv: str, plan: Plan, partitions: int, measured: Measured, ratios: dict, say
) -> tuple[dict, dict | None, dict | None]:
    """The command line's own gd job on this runtime (and, on a cluster, on
    local[*] in the same container, and with encryption the other way round);
    its ratios are added to `ratios`."""
    it = plan.iterations
    on_cluster = sc.master.startswith("spark://")
    say(
        f"the command line's own gd job on this runtime, beside the benchmark's fit ({plan.repeats} runs"
        + (f", each followed by the same on local[{partitions}] in this container)" if on_cluster else ")")
    )
    # One such run is a fresh application whose timings move by ~10% from run
    # to run here: the medians of interleaved runs are what the ratios compare.
    cli_runs: list[dict] = []
    alone_runs: list[dict] = []
    for _ in range(plan.repeats):
        cli_runs.append(cli_gd_timing(sc.master, wine_csv, it, partitions))
        if on_cluster:  # the floor without executors elsewhere, right after
            alone_runs.append(cli_gd_timing(f"local[{partitions}]", wine_csv, it, partitions))
    cli = median_timing(cli_runs)
    ratios["cli_fit_vs_bench_fit"] = cli["fit_per_iteration_seconds"] / (measured.median("gd/sparklab") / it)
    encryption = alone = None
    if on_cluster:
        alone = median_timing(alone_runs)
        ratios |= cluster_vs_local_ratios(cli, alone)
        say("the same gd with the cluster's RPC and io encryption the other way round")
        encryption = encryption_cost(sc.master, cli_runs[-1], wine_csv, it, partitions)
        ratios |= encryption_ratios(encryption)
    return cli, alone, encryption


# What SPARKLAB_ENCRYPTION turns on in every daemon, executor and driver
# (cluster/images/entrypoint.sh). An application may turn them off for
# itself: its executors take spark.network.* from it at launch, and the
# daemons still accept its SASL-authenticated, unencrypted connections.
ENCRYPTION_ON = {
    "spark.network.crypto.enabled": "true",
    "spark.network.crypto.cipher": "AES/GCM/NoPadding",
    "spark.io.encryption.enabled": "true",
}
ENCRYPTION_OFF = {"spark.network.crypto.enabled": "false", "spark.io.encryption.enabled": "false"}


def encryption_cost(master: str, configured: dict, wine_csv: str, iterations: int, partitions: int) -> dict:
    """The command line's gd (`configured`: as the cluster is set up, which its
    `rpc_encrypted` says) beside the same run with encryption the other way
    round: both own JVMs and executors, one after the other in this run."""
    on = configured["rpc_encrypted"]
    flipped = ENCRYPTION_OFF if on else ENCRYPTION_ON
    other = cli_gd_timing(master, wine_csv, iterations, partitions, flipped)
    return {"on": configured, "off": other} if on else {"on": other, "off": configured}


def encryption_ratios(cost: dict) -> dict:
    on, off = cost["on"], cost["off"]
    return {
        "encrypted_vs_plain_empty_job": on["empty_job_seconds"] / off["empty_job_seconds"],
        "encrypted_vs_plain_fit": on["fit_per_iteration_seconds"] / off["fit_per_iteration_seconds"],
    }


def median_timing(runs: list[dict]) -> dict:
    """The command line's timings over runs of the same command: each time's
    median, the rest (what they paid for) from the first; `runs` says how many."""
    combined = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            combined[key] = statistics.median(run[key] for run in runs)
    return combined | {"runs": len(runs)}


def cluster_vs_local_ratios(cluster: dict, local: dict) -> dict:
    """The same command line's empty job and fit iteration on the cluster against
    local[N] with as many task slots, in one run (medians of interleaved runs)."""
    return {
        "cluster_vs_local_empty_job": cluster["empty_job_seconds"] / local["empty_job_seconds"],
        "cluster_vs_local_fit": cluster["fit_per_iteration_seconds"] / local["fit_per_iteration_seconds"],
    }


def cli_gd_timing(
    master: str, wine_csv: str, iterations: int, partitions: int, conf: dict[str, str] | None = None
) -> dict:
    """The command line's gd as `./lab demo` runs it: after the word count, in
    one application of its own (UI on for its metrics, progress lines, event
    log on the cluster), on the same runtime, with `conf` on top; its own
    account of load, fit and an empty job (the result's `timing`)."""
    with tempfile.TemporaryDirectory(prefix="sparklab-bench-cli-") as out:
        # The word count reads the wine file as text: it is where the benchmark runs.
        words = ["wordcount", "--master", master, "--input", wine_csv, "--top", "1", "--out", out]
        gd = ["gd", "--data", wine_csv, "--out", out, "--iterations", str(iterations)]
        command = [sys.executable, "-m", "jobs", *join_runs([words, [*gd, "--partitions", str(partitions)]])]
        # Its own JVM: under spark-submit this process's gateway variables would
        # hand the child this very JVM (and "only one SparkContext" per JVM).
        # Its failure is the benchmark's to tell (its message below), not a record of the run's.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
        env.pop(ERROR_RECORD_ENV, None)
        conf = dict(conf or {})
        if master.startswith("spark://"):  # as many executors as the benchmark's own session
            conf["spark.cores.max"] = str(partitions)
        flags = [f"--conf {key}={value}" for key, value in conf.items()]
        run = os.environ.get("SPARKLAB_RUN")  # the benchmark's run: `./lab stop` ends this one with it
        env["PYSPARK_SUBMIT_ARGS"] = (
            submit_args(run, BENCH, *flags) if run else " ".join([*flags, "pyspark-shell"])
        )
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"gd on {master} failed: {last_line(done.stderr)}")
        return json.loads((Path(out) / "gd.json").read_text())["timing"]


def _ratios(measured: Measured, scaling: list[dict], iterations: int) -> dict:
    m = measured.median
    largest = scaling[-1] if scaling else None
    return {
        "cv_vs_single_fit": m("cv/sparklab") / m("cv/single_fit"),
        "article_cv_vs_cv": m("cv/article") / m("cv/sparklab"),
        "article_gd_vs_gd": m("gd/article") / m("gd/sparklab"),
        "gd_vs_empty_jobs": m("gd/sparklab") / m("gd/empty_jobs"),
        "sequential_fits_vs_cv": m("cv/sequential_fits") / m("cv/sparklab"),
        # At the largest size, the one-job fit's marginal time per iteration
        # (blocks read once, resident in the task) against numpy's.
        "gd_4e6_vs_numpy": (
            largest["one_job_per_iteration"] / largest["numpy_per_iteration"] if largest else None
        ),
        "gd_4e6_per_iteration_job_vs_numpy": (
            largest["sparklab_per_iteration"] / largest["numpy_per_iteration"] if largest else None
        ),
        "gd_4e6_vs_numpy_rows": largest["rows"] if largest else None,
        # At the largest size, each fit's iteration against what it cannot go
        # below: one read pass over the same blocks in the same tasks (and,
        # with one job per iteration, an empty Spark job on top of it).
        "one_job_vs_memory_floor": (
            largest["one_job_per_iteration"] / largest["memory_floor_per_iteration"] if largest else None
        ),
        "gd_vs_floor_plus_empty_job": (
            largest["sparklab_per_iteration"]
            / (largest["memory_floor_per_iteration"] + largest["empty_job_per_iteration"])
            if largest
            else None
        ),
        "one_job_vs_per_iteration": m("gd/sparklab_one_job") / m("gd/sparklab"),
        "article_gd_vs_one_job": m("gd/article") / m("gd/sparklab_one_job"),
        "cv_one_job_vs_per_iteration": m("cv/sparklab_one_job") / m("cv/sparklab"),
    }
