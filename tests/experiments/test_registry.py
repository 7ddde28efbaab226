"""The experiments' registry (no Spark): every page's table columns read
from its TABLE, and a TABLE entry of another form refused at import."""

import pytest

from jobs.experiments.registry import EXPERIMENTS, columns


def test_a_column_is_its_title_and_its_format():
    spec = {"one_pass_seconds": "one pass: job s {:.2f}", "variant": "variant {}", "delta": "delta {: .2f}"}
    assert columns(spec) == (
        ("one_pass_seconds", "one pass: job s", "{:.2f}"),
        ("variant", "variant", "{}"),
        ("delta", "delta", "{: .2f}"),
    )


@pytest.mark.parametrize("spec", ["name", "{:d}", "title {:d} more", "title {{:d}}"])
def test_an_entry_without_a_title_and_a_format_is_refused(spec):
    with pytest.raises(ValueError, match=r"write it as 'column title \{format\}'"):
        columns({"key": spec})


def test_every_experiments_columns_format_a_number_of_their_kind():
    for experiment in EXPERIMENTS.values():
        for key, _, form in experiment.table:
            value = 7 if form.endswith("d}") else 0.25
            assert form.format(value), (experiment.name, key)
