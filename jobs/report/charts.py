"""The report's pictures (matplotlib, no display needed)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from jobs.report.files import write_bytes_atomic


def figure(*args, **kwargs):
    """(pyplot, figure, axes) on the Agg backend: `plt.subplots` without a display."""
    import matplotlib  # lazy: matplotlib, loaded only when used

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib, loaded only when used

    return plt, *plt.subplots(*args, **kwargs)


def save_png(plt, fig, path: Path) -> Path:
    """Write the figure as a PNG atomically and close it."""

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue())


def plot_gd(gd: dict, path: Path) -> Path:
    plt, fig, ax = figure(figsize=(7, 4))
    steps = np.arange(1, len(gd["train_mse"]) + 1)
    ax.plot(steps, gd["train_mse"], label="train MSE")
    ax.plot(steps, gd["test_mse"], label="test MSE", linestyle="--")
    title = f"Gradient descent, lr {gd['lr']} ({gd['n_train']} train / {gd['n_test']} test rows)"
    return _save_loss_plot(plt, fig, ax, title, path)


def plot_cv(cv: dict, path: Path) -> Path:
    plt, fig, ax = figure(figsize=(7, 4))
    steps = np.arange(1, len(cv["mean_train_mse"]) + 1)
    for key, label, style in (("train_mse", "train", "-"), ("val_mse", "validation", "--")):
        per_fold = np.array([fold[key] for fold in cv["folds"]])
        line = ax.plot(steps, per_fold.mean(axis=0), linestyle=style, label=f"mean {label} MSE")[0]
        ax.fill_between(
            steps,
            per_fold.min(axis=0),
            per_fold.max(axis=0),
            alpha=0.2,
            color=line.get_color(),
            label=f"{label}: range over folds",
        )
    title = f"{cv['k']}-fold cross-validation, {cv['k']} models trained in one pass"
    return _save_loss_plot(plt, fig, ax, title, path)


def _save_loss_plot(plt, fig, ax, title: str, path: Path) -> Path:
    """Losses against iterations, on a log scale (they fall by orders of magnitude)."""
    ax.set(xlabel="iteration", ylabel="mean squared error", yscale="log", title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    return save_png(plt, fig, path)


def plot_eda(csv_path: str, out_dir: Path) -> list[Path]:
    """The article's exploration: histograms, each feature against quality, correlations."""
    import pandas as pd  # lazy: pandas, loaded only when used

    frame = pd.read_csv(csv_path, sep=";", on_bad_lines="skip")
    frame = frame.apply(pd.to_numeric, errors="coerce").dropna()
    target = frame.columns[-1]
    features = list(frame.columns[:-1])
    cols = 3
    rows = -(-len(features) // cols)
    paths = []

    plt, fig, axes = figure(rows, cols, figsize=(12, 3 * rows))
    for ax, name in zip(axes.flat, features, strict=False):
        ax.hist(frame[name], bins=30, color="steelblue")
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(features) :]:
        ax.set_visible(False)
    fig.suptitle("Feature distributions")
    fig.tight_layout()
    paths.append(save_png(plt, fig, out_dir / "eda_histograms.png"))

    levels = sorted(frame[target].unique())
    plt, fig, axes = figure(rows, cols, figsize=(12, 3 * rows))
    for ax, name in zip(axes.flat, features, strict=False):
        groups = [frame.loc[frame[target] == level, name] for level in levels]
        ax.boxplot(
            groups, vert=False, tick_labels=[f"{level:g}" for level in levels], flierprops={"markersize": 2}
        )
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(target, fontsize=8)
    for ax in list(axes.flat)[len(features) :]:
        ax.set_visible(False)
    fig.suptitle(f"Each feature against {target}")
    fig.tight_layout()
    paths.append(save_png(plt, fig, out_dir / "eda_boxplots.png"))

    corr = frame.corr().to_numpy()
    plt, fig, ax = figure(figsize=(8, 7))
    image = ax.imshow(corr, cmap="coolwarm", vmin=-1, vmax=1)
    names = list(frame.columns)
    ax.set_xticks(range(len(names)), names, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image)
    ax.set_title("Correlations between the columns")
    paths.append(save_png(plt, fig, out_dir / "eda_correlations.png"))
    return paths
