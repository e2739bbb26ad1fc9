import math

import numpy as np
import pytest

from lineage.core.score.metrics import binary_scores, group_folds, parent_accuracy, roc_auc, set_scores


def test_parent_accuracy_hand_example():
    truth = {"b": ["a"], "c": ["a"], "d": ["c"], "e": ["x", "c"], "a": []}
    inferred = {"a": "b", "b": None, "c": "a", "d": "c", "e": "c"}
    acc = parent_accuracy(inferred, truth)
    # children with a parent in the population: b, c, d, e -> right: c, d, e (e is a merge of x and c)
    assert acc.directed == pytest.approx(3 / 4)
    # b's edge a->b was found reversed (a's inferred parent is b)
    assert acc.undirected == pytest.approx(1.0)
    # inferred edges: b->a (wrong), a->c, c->d, c->e
    assert acc.precision == pytest.approx(3 / 4)
    assert acc.root_accuracy == 0.0 and acc.n_roots == 1


def test_roc_auc_hand_example():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_binary_and_set_scores():
    s = binary_scores([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0])
    assert (s.precision, s.recall, s.fpr) == pytest.approx((2 / 3, 2 / 3, 1 / 4))
    assert s.f1 == pytest.approx(2 / 3)
    p, r, f = set_scores({"a", "b"}, {"b", "c", "d"})
    assert (p, r, f) == pytest.approx((0.5, 1 / 3, 0.4))


def test_group_folds_never_split_a_group():
    groups = ["f1"] * 5 + ["f2"] * 3 + ["f3"] * 4 + ["f4"] * 2
    folds = group_folds(groups, 3, random_state=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    for f in folds:
        inside = {groups[i] for i in f}
        for g in inside:
            assert all(groups[i] != g for other in folds if other is not f for i in other)


def test_binomial_interval_is_the_exact_clopper_pearson_interval():
    from scipy import stats

    from lineage.core.score.metrics import binomial_interval

    lo, hi = binomial_interval(0, 67)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 67), rel=1e-9)  # closed form for k = 0
    lo, hi = binomial_interval(3, 100)
    # the interval's ends are where the one-sided binomial tails reach 2.5%
    assert stats.binom.sf(2, 100, lo) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(3, 100, hi) == pytest.approx(0.025, rel=1e-6)
    assert binomial_interval(5, 5)[1] == 1.0
    assert all(np.isnan(binomial_interval(0, 0)))
