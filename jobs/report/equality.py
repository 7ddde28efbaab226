"""Is a job's result on one runtime the same as on another?

Word counts must be identical; weights and losses equal to 1e-9 relative
(the partial sums meet in a different order on different partitionings).
"""

from __future__ import annotations

import numpy as np

RTOL = 1e-9

_NUMERIC_KEYS = {
    "wordcount": (),
    "gd": ("weights", "raw_weights", "train_mse", "test_mse"),
    "cv": ("mean_train_mse", "mean_val_mse"),
    "mllib": (),  # per solver, below
}


def _arrays(job: str, payload: dict) -> dict[str, np.ndarray]:
    arrays = {key: np.asarray(payload[key], dtype=float) for key in _NUMERIC_KEYS[job]}
    if job == "mllib":
        for solver, fit in payload["fits"].items():
            for key in ("raw_weights", "train_mse", "test_mse"):
                arrays[f"{solver} {key}"] = np.asarray(fit[key], dtype=float)
        arrays["cv mean_val_mse"] = np.asarray(payload["cv"]["mean_val_mse"], dtype=float)
    if job == "cv":
        for fold in payload["folds"]:
            for key in ("weights", "train_mse", "val_mse"):
                arrays[f"fold {fold['fold']} {key}"] = np.asarray(fold[key], dtype=float)
    return arrays


def difference(job: str, expected: dict, actual: dict, rtol: float = RTOL) -> str | None:
    """None when equal; otherwise one line saying what differs."""
    if job == "wordcount":
        if expected["counts"] == actual["counts"]:
            return None
        words = sorted(set(expected["counts"]) ^ set(actual["counts"]))
        changed = sorted(
            w
            for w in set(expected["counts"]) & set(actual["counts"])
            if expected["counts"][w] != actual["counts"][w]
        )
        return (
            f"word counts differ: {len(words)} words in one only {words[:5]}, "
            f"{len(changed)} counts differ {changed[:5]}"
        )
    left, right = _arrays(job, expected), _arrays(job, actual)
    if left.keys() != right.keys():
        return f"different parts: {sorted(left.keys() ^ right.keys())[:5]} in one only"
    for key, value in left.items():
        other = right[key]
        if value.shape != other.shape:
            return f"{key}: shape {value.shape} against {other.shape}"
        if not np.allclose(value, other, rtol=rtol, atol=0):
            worst = float(np.max(np.abs(value - other) / np.maximum(np.abs(value), 1e-300)))
            return f"{key}: differs by {worst:.3g} relative (allowed {rtol:g})"
    return None
