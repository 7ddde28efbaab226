"""Word frequencies of one partition's lines."""

from collections import Counter


def frequencies(lines):
    counts = Counter(word.lower() for line in lines for word in line.split())
    return list(counts.items())
