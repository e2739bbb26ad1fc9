import numpy as np
import pytest
from scipy import stats

from lineage.core.measure.distances import pair_distances
from lineage.core.channels.relatedness import PairClassifier, fit_null
from lineage.core.score.simulate import simulate_population


@pytest.mark.parametrize("method", ["empirical", "auto"])
def test_p_values_uniform_on_unrelated_pairs(method):
    # 400 families of one model each: every pair is unrelated
    pop = simulate_population(400, n_families=400, random_state=3)
    X = pop.X
    null = fit_null(X[:200], families=pop.families[:200], method=method, random_state=0)
    assert null.source == "between-family"
    rng = np.random.default_rng(0)
    test = 200 + rng.permutation(200)
    a, b = test[:100], test[100:]  # disjoint pairs: independent draws
    p1 = null.p_value(pair_distances(X, a, b))
    i, j = np.triu_indices(200, 1)
    p_all = null.p_value(pair_distances(X, 200 + i, 200 + j))
    assert stats.kstest(p1, "uniform").pvalue > 0.001
    # pairs share models, so the all-pairs sample is dependent: a looser bound
    assert stats.kstest(p_all, "uniform").statistic < 0.08
    assert 0.004 <= np.mean(p_all <= 0.01) <= 0.02
    assert 0.03 <= np.mean(p_all <= 0.05) <= 0.07


def test_related_pairs_get_small_p_values_and_threshold_matches():
    pop = simulate_population(300, random_state=4)
    null = fit_null(pop.X, families=pop.families)
    pos = {m: i for i, m in enumerate(pop.ids)}
    pairs = [(pos[m], pos[ps[0]]) for m, ps, r in zip(pop.ids, pop.true_parents, pop.true_relations) if r == "quantized"]
    a, b = np.array(pairs).T
    d = pair_distances(pop.X, a, b)
    assert np.all(null.p_value(d) <= 0.01)
    assert np.all(null.score(d) > 2)
    thr = null.threshold(0.01)
    assert null.p_value(thr) <= 0.01 < null.p_value(thr + 1e-3)


def test_null_without_families_uses_all_pairs():
    pop = simulate_population(60, random_state=5)
    null = fit_null(pop.X, random_state=0)
    assert null.source == "all-pairs" and null.n_pairs == 60 * 59 // 2
    s = null.summary()
    assert s["q01"] <= s["q05"] <= s["median"]


def test_pair_classifier_separates_simulated_relatives():
    pytest.importorskip("sklearn")
    pop = simulate_population(150, random_state=6)
    fam = np.array(pop.families)
    train_models = np.isin(fam, sorted(set(fam))[: len(set(fam)) // 2])
    def pairs(mask):
        idx = np.flatnonzero(mask)
        i, j = np.triu_indices(len(idx), 1)
        return idx[i], idx[j], fam[idx[i]] == fam[idx[j]]
    a, b, y = pairs(train_models)
    clf = PairClassifier().fit(pop.X[a], pop.X[b], y)
    ta, tb, ty = pairs(~train_models)  # different families: group-disjoint
    s = clf.decision_function(pop.X[ta], pop.X[tb])
    from lineage.core.score.metrics import roc_auc
    assert roc_auc(ty, s) > 0.8
    np.testing.assert_allclose(s, clf.decision_function(pop.X[tb], pop.X[ta]))
