"""Latency percentiles from fixed log-spaced bins: merged by adding, within the stated precision."""

import random

from application.traffic import latency_bin, merge_histograms, percentile


def histogram_of(values: list[float]) -> dict[int, int]:
    histogram: dict[int, int] = {}
    for value in values:
        histogram[latency_bin(value)] = histogram.get(latency_bin(value), 0) + 1
    return histogram


def test_percentiles_from_bins_are_within_the_documented_nine_percent() -> None:
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(3, 1.2) for _ in range(5000))
    histogram = histogram_of(values)
    for fraction in (0.5, 0.95, 0.99):
        exact = values[int(fraction * len(values)) - 1]
        estimate = percentile(histogram, fraction)
        assert estimate is not None
        assert abs(estimate - exact) / exact < 0.092


def test_merged_bucket_histograms_give_the_percentiles_of_all_observations() -> None:
    hour_one, hour_two = [1.0] * 90, [1000.0] * 10
    merged = merge_histograms([histogram_of(hour_one), histogram_of(hour_two)])
    assert percentile(merged, 0.5) == percentile(histogram_of(hour_one), 0.5)
    assert 900 < percentile(merged, 0.95) < 1100  # type: ignore[operator]


def test_extremes_land_in_the_edge_bins() -> None:
    assert latency_bin(0.0) == 0
    assert latency_bin(10**9) == latency_bin(10**7)
    assert percentile({}, 0.5) is None
