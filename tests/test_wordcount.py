"""Word count against collections.Counter."""

import random
import string
from pathlib import Path

import pytest

from jobs.data.paths import expand_inputs
from jobs.wordcount import Tokenizer, counter_reference, run, top_words

PETER_PIPER = Path(__file__).resolve().parent.parent / "data" / "peter_piper.txt"


def test_peter_piper_counts_equal_counter(spark):
    result = run(spark, [str(PETER_PIPER)], top=3)
    assert result.counts == counter_reference([PETER_PIPER.read_text()], Tokenizer())
    # The article's corpus: "peck" appears five times, more than any other word.
    assert result.top == [("peck", 5), ("Peter", 4), ("Piper", 4)]


@pytest.fixture(scope="module")
def random_corpus(tmp_path_factory):
    rng = random.Random(11)
    vocabulary = ["".join(rng.choices(string.ascii_letters, k=rng.randint(1, 6))) for _ in range(300)]
    folder = tmp_path_factory.mktemp("corpus")
    for n in range(4):
        lines = []
        for _ in range(400):
            words = [rng.choice(vocabulary) + rng.choice(["", "", ",", ".", "!", "'s"]) for _ in range(12)]
            lines.append(rng.choice([" ", "  ", "\t"]).join(words))
        (folder / f"part-{n}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "tokenizer",
    [
        Tokenizer(),
        Tokenizer(lower=True),
        Tokenizer(strip_punct=True),
        Tokenizer(lower=True, strip_punct=True),
    ],
)
def test_any_corpus_counts_equal_counter(spark, random_corpus, tokenizer):
    files = expand_inputs([str(random_corpus / "*.txt")])
    expected = counter_reference([Path(f).read_text(encoding="utf-8") for f in files], tokenizer)
    assert run(spark, files, tokenizer=tokenizer).counts == expected


def test_counts_do_not_depend_on_partitioning(spark, random_corpus):
    files = expand_inputs([str(random_corpus)])
    assert run(spark, files, partitions=1).counts == run(spark, files, partitions=7).counts


def test_top_words_breaks_ties_alphabetically():
    assert top_words({"b": 2, "a": 2, "c": 3, "d": 1}, 3) == [("c", 3), ("a", 2), ("b", 2)]
