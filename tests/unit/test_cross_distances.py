"""cross_distances and the vectorised row median give, bit for bit, what the pair-by-pair
code they replace in local_p_values gave (a placement and a full analysis must keep deciding
exactly as before)."""

from __future__ import annotations

import numpy as np
import pytest

from lineage.core.infer.selection import _row_nanmedian
from lineage.core.measure.distances import cross_distances, pair_distances


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_cross_distances_equal_pair_distances_exactly(metric):
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(300, 128)) * rng.uniform(0.1, 5.0, size=(300, 1))).astype(np.float32)
    rows = rng.integers(0, 300, size=37)
    cols = np.sort(rng.choice(300, 101, replace=False))
    got = cross_distances(X, rows, cols, metric=metric, max_cells=5000)  # several blocks
    want = pair_distances(X, np.repeat(rows, cols.size), np.tile(cols, rows.size), metric=metric)
    assert got.shape == (37, 101)
    assert np.array_equal(got.ravel(), want)


def test_row_nanmedian_equals_numpy_nanmedian_exactly():
    rng = np.random.default_rng(4)
    a = rng.uniform(0.0, 10.0, size=(50, 2001))
    a[3, 17] = np.nan  # the self-distance of a parent inside the sample
    a[8, 0] = np.nan
    a[9, :] = np.nan  # nothing left: NaN, as nanmedian gives
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmedian(a, axis=1)
    got = _row_nanmedian(a)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[9]) and not np.isnan(got[3])
