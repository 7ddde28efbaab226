"""jobs.bench.plan.fitting_sizes: which benchmark sizes fit the memory that caches them."""

from jobs.bench.plan import Plan, fitting_sizes

GIB = 2**30
SIZES = Plan().sizes  # 10k, 100k, 1M, 4M rows


def test_one_gib_driver_holds_two_and_a_half_million_rows_not_four():
    # A row is 13 float64 = 104 bytes; a quarter of 1 GiB holds 2,581,110 of them.
    assert fitting_sizes(SIZES, holders=1, memory=GIB) == (
        [10_000, 100_000, 1_000_000, 2_500_000],
        [4_000_000],
    )


def test_the_clusters_two_768_mb_executors_hold_three_point_eight_million_rows():
    # 2 x 768 MiB / 4 / 104 bytes = 3,871,665 rows.
    assert fitting_sizes(SIZES, holders=2, memory=768 * 2**20) == (
        [10_000, 100_000, 1_000_000, 3_800_000],
        [4_000_000],
    )


def test_two_executors_share_the_rows_and_hold_four_million():
    assert fitting_sizes(SIZES, holders=2, memory=GIB) == ([10_000, 100_000, 1_000_000, 4_000_000], [])


def test_the_limit_is_inclusive_at_a_quarter_of_the_memory_and_adds_no_size_it_already_has():
    memory = 4 * 104 * 1_000  # exactly 1000 rows' worth in the allowed quarter
    assert fitting_sizes([999, 1_000, 1_001], holders=1, memory=memory) == ([999, 1_000], [1_001])
    assert fitting_sizes([2_000, 2_001], holders=2, memory=memory) == ([2_000], [2_001])


def test_sizes_keep_their_order_and_nothing_fits_no_memory():
    assert fitting_sizes([300, 100, 200], holders=1, memory=GIB) == ([300, 100, 200], [])
    assert fitting_sizes([300, 100], holders=3, memory=0) == ([], [300, 100])


def test_a_size_below_every_listed_one_is_the_largest_that_fits():
    memory = 4 * 104 * 1_234  # 1,234 rows' worth in the allowed quarter
    assert fitting_sizes([5_000], holders=1, memory=memory) == ([1_200], [5_000])
    assert fitting_sizes([5_000], holders=1, memory=4 * 104 * 7) == ([7], [5_000])
