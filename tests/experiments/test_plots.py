"""jobs.experiments.plots: an experiment's figure, made and saved as a PNG (matplotlib, no display)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from jobs.experiments.plots import drawn


def test_the_figure_is_written_as_a_png_and_closed(tmp_path):
    path = tmp_path / "plot.png"
    with drawn(path, 1, 2, figsize=(4, 2)) as (fig, (left, right)):
        left.plot([1, 2], [3, 4])
        right.bar([1, 2], [3, 4])
        assert not path.exists()  # written when the block ends
    assert path.read_bytes().startswith(b"\x89PNG")
    assert not plt.fignum_exists(fig.number)
