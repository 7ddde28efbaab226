"""skew: a word count where one word is most of the text.

Counting by sending every (word, 1) pair to the task that owns its word
(`partitionBy`, no map-side combining: what a join's shuffle does) sends
all of the hot word's occurrences to ONE reduce task: that task runs long, the others wait, the stage lasts as
long as it. Salting the key (word, i mod S) spreads the hot word over S
tasks and adds a second, small shuffle to add the S partial counts. For
contrast, `reduceByKey` combines on the map side: one record per word per
map task crosses the shuffle, so there is no hot task to begin with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from operator import add

from jobs.experiments.monitoring import live_numbers, select_group, summarize_tasks
from jobs.experiments.plots import drawn

NAME = "skew"
QUESTION = (
    "When one word is most of the text, how long is the one task that counts it, does it set the "
    "stage's time, and how much does salting the key win back?"
)
HOT = "spark"


@dataclass(frozen=True)
class Plan:
    words: int
    hot_share: float
    vocabulary: int
    map_tasks: int
    reduce_tasks: int
    salts: int


FULL = Plan(words=3_000_000, hot_share=0.5, vocabulary=20_000, map_tasks=8, reduce_tasks=8, salts=8)
SMALLEST = Plan(words=20_000, hot_share=0.5, vocabulary=500, map_tasks=2, reduce_tasks=4, salts=4)
VARIANTS = ("grouped", "salted", "combined")
LABELS = {
    "grouped": "every pair shuffled (skewed)",
    "salted": "every pair shuffled, salted keys",
    "combined": "reduceByKey (map-side combine)",
}


def words_of(part: int, plan: Plan, seed: int = 11) -> list[str]:
    """One map partition's words: the hot word with probability hot_share, else a random other."""
    import numpy as np  # lazy: numpy, loaded only when used

    rng = np.random.default_rng([seed, part])
    count = plan.words * (part + 1) // plan.map_tasks - plan.words * part // plan.map_tasks
    hot = rng.random(count) < plan.hot_share
    cold = rng.integers(0, plan.vocabulary, count)
    return [HOT if h else f"w{c}" for h, c in zip(hot.tolist(), cold.tolist(), strict=True)]


def salted_pairs(index: int, words, salts: int):
    for i, word in enumerate(words):
        yield (word, (index + i) % salts), 1


def count_pairs(pairs) -> list[tuple]:
    """One reduce task's counts of the pairs it received (runs on executors)."""

    counter: Counter = Counter()
    for key, one in pairs:
        counter[key] += one
    return list(counter.items())


def count(words, variant: str, plan: Plan) -> dict[str, int]:
    """The word counts, by one of the three variants (Spark transforms; one job).

    grouped and salted send every (word, 1) pair across the shuffle
    (`partitionBy`: no map-side combining, as a join's shuffle), each
    reduce task counting what it received; combined is `reduceByKey`.
    """
    if variant == "grouped":
        pairs = words.map(lambda w: (w, 1))
        return dict(pairs.partitionBy(plan.reduce_tasks).mapPartitions(count_pairs).collect())
    if variant == "salted":
        salts = plan.salts
        pairs = words.mapPartitionsWithIndex(lambda index, part: salted_pairs(index, part, salts))
        partial = pairs.partitionBy(plan.reduce_tasks).mapPartitions(count_pairs)
        return dict(partial.map(lambda kv: (kv[0][0], kv[1])).reduceByKey(add, plan.reduce_tasks).collect())
    if variant == "combined":
        return dict(words.map(lambda w: (w, 1)).reduceByKey(add, plan.reduce_tasks).collect())
    raise ValueError(variant)


def measure(ctx) -> dict:
    """Spark part (driver): the three counts in one application, the words cached first."""

    plan = SMALLEST if ctx.smallest else FULL
    with ctx.session("counts") as spark:
        sc = spark.sparkContext
        ctx.group(sc, "words")
        words = (
            sc.parallelize(range(plan.map_tasks), plan.map_tasks).flatMap(lambda p: words_of(p, plan)).cache()
        )
        total = words.count()
        counts, groups = {}, {}
        for variant in VARIANTS:
            groups[variant] = ctx.group(sc, variant, LABELS[variant])
            counts[variant] = count(words, variant, plan)
            ctx.progress(f"{LABELS[variant]}: {counts[variant].get(HOT, 0)} x {HOT!r} of {total} words")
        numbers = live_numbers(sc, groups=list(groups.values()))
    return {
        "plan": asdict(plan),
        "total_words": total,
        "hot_count": counts["grouped"].get(HOT, 0),
        "same_counts": counts["grouped"] == counts["salted"] == counts["combined"],
        "distinct_words": len(counts["grouped"]),
        "groups": groups,
        "numbers": numbers,
    }


def _word_stage(picked: dict) -> dict | None:
    """The stage that receives the words: the one reading the most shuffle bytes."""
    reading = [s for s in picked["stages"] if s["shuffle_read_bytes"] > 0]
    return max(reading, key=lambda s: s["shuffle_read_bytes"], default=None)


def summarize(result: dict) -> dict:
    """The page's figures and answer, from the measured numbers alone (pure)."""
    numbers = result["numbers"]
    rows = []
    for variant in VARIANTS:
        picked = select_group(numbers["jobs"], numbers["stages"], numbers["tasks"], result["groups"][variant])
        stage = _word_stage(picked)
        tasks = [
            t for t in picked["tasks"] if stage and t["stage"] == stage["stage"] and t["status"] == "SUCCESS"
        ]
        summary = summarize_tasks(tasks)
        longest = max(tasks, key=lambda t: t["seconds"], default=None)
        read = summary["shuffle_read_bytes"]
        rows.append(
            {
                "variant": LABELS[variant],
                "key": variant,
                "job_seconds": sum(job["seconds"] or 0 for job in picked["jobs"]),
                "stages": len(picked["stages"]),
                "shuffle_bytes": sum(s["shuffle_read_bytes"] for s in picked["stages"]),
                "stage_seconds": stage["seconds"] if stage else None,
                "tasks": len(tasks),
                "task_max_seconds": summary["max_seconds"],
                "task_median_seconds": summary["median_seconds"],
                "max_over_median": summary["max_seconds"] / summary["median_seconds"]
                if summary["median_seconds"]
                else None,
                "longest_read_share": longest["shuffle_read_bytes"] / read if longest and read else None,
                "longest_time_share": longest["seconds"] / summary["seconds_total"]
                if longest and summary["seconds_total"]
                else None,
                "longest_stage_share": longest["seconds"] / stage["seconds"]
                if longest and stage and stage["seconds"]
                else None,
                "task_seconds": [t["seconds"] for t in sorted(tasks, key=lambda t: t["index"])],
            }
        )
    return {"rows": rows, "answer": answer(rows, result)}


def answer(rows: list[dict], result: dict) -> str:
    grouped, salted, combined = (next(r for r in rows if r["key"] == v) for v in VARIANTS)
    share = result["hot_count"] / result["total_words"] if result["total_words"] else 0
    said = [
        f"{result['hot_count']} of {result['total_words']} words ({share:.0%}) were {HOT!r}.",
        f"Every pair shuffled: the longest of {grouped['tasks']} reduce tasks did "
        f"{grouped['longest_time_share']:.0%} "
        f"of the stage's task time ({grouped['longest_read_share']:.0%} of its shuffle bytes), "
        f"{grouped['task_max_seconds']:.2f} s against a median of "
        f"{grouped['task_median_seconds']:.2f} s ({grouped['max_over_median']:.1f}x);",
    ]
    if grouped["longest_stage_share"] is not None and grouped["longest_stage_share"] >= 0.5:
        said.append(
            f"the stage lasted {grouped['stage_seconds']:.2f} s, "
            f"{grouped['longest_stage_share']:.0%} of it that one task."
        )
    else:
        said.append(f"the stage lasted {grouped['stage_seconds']:.2f} s; that task was not most of it.")
    change = grouped["job_seconds"] / salted["job_seconds"] if salted["job_seconds"] else float("nan")
    said.append(
        f"Salted over {result['plan']['salts']} keys: the longest task {salted['task_max_seconds']:.2f} s "
        f"({salted['max_over_median']:.1f}x the median), the whole count "
        f"{salted['job_seconds']:.2f} s against "
        f"{grouped['job_seconds']:.2f} s: "
        + (
            f"{change:.2f}x faster."
            if change > 1
            else f"no faster ({change:.2f}x): its second shuffle cost more than the skew."
        )
    )
    said.append(
        f"reduceByKey needed no salt: {combined['shuffle_bytes']} shuffle bytes "
        f"against {grouped['shuffle_bytes']}, "
        f"{combined['job_seconds']:.2f} s."
    )
    if not result["same_counts"]:
        said.append("The three counts DIFFER: a bug, not a measurement.")
    return " ".join(said)


# The page's table, a column each: row key="column title {format}" (registry.columns).
TABLE = dict(
    variant="variant {}", job_seconds="job s {:.2f}", stages="stages {:d}",
    shuffle_bytes="shuffle read bytes {:d}", stage_seconds="word stage s {:.2f}", tasks="its tasks {:d}",
    task_max_seconds="longest task s {:.3f}", task_median_seconds="median task s {:.3f}",
    max_over_median="longest / median {:.1f}",
    longest_time_share="longest task's share of task time {:.0%}",
    longest_read_share="its share of bytes {:.0%}",
)  # fmt: skip


def plot(result: dict, summary: dict, path) -> None:
    """Host only: each reduce task's time in the stage that receives the words, per variant."""
    rows = summary["rows"]
    with drawn(path, 1, len(rows), figsize=(12, 3.8), sharey=True) as (fig, axes):
        for ax, row in zip(axes, rows, strict=True):
            ax.bar(
                range(len(row["task_seconds"])),
                row["task_seconds"],
                color="indianred" if row["key"] == "grouped" else "steelblue",
            )
            ax.set(title=row["variant"], xlabel="reduce task (partition)")
            ax.grid(alpha=0.3, axis="y")
        axes[0].set_ylabel("task duration (s)")
        fig.suptitle(
            f"{result['total_words']} words, {result['hot_count']} of them {HOT!r}: "
            "the stage that receives them"
        )
