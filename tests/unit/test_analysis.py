"""Parents, analysis API, speeds, simulation and evaluation on synthetic populations."""

import datetime as dt

import numpy as np
import pytest

from lineage.core.infer.analysis import analyse_population
from lineage.core.score.simulate import simulate_population
from lineage.core.infer.speed import family_speeds


@pytest.fixture(scope="module")
def pop():
    return simulate_population(160, random_state=11)


@pytest.fixture(scope="module")
def analysis(pop):
    return analyse_population(pop.ids, pop.X, release_dates=pop.release_dates, families=pop.families,
                              declared_parents=pop.declared_parents, declared_relations=pop.declared_relations)


def test_parents_never_postdate_children(pop, analysis):
    date = dict(zip(pop.ids, pop.release_dates))
    assert analysis.parents
    for e in analysis.parents:
        assert date[e.parent] <= date[e.child]
        assert 0.0 <= e.confidence <= 1.0 and e.p_value <= analysis.fpr and e.distance >= 0
    assert len({e.child for e in analysis.parents}) == len(analysis.parents)


def test_parents_respect_structural_priors_and_mostly_right(pop, analysis):
    rel = dict(zip(pop.ids, pop.declared_relations))
    assert all(rel[e.parent] not in ("quantized", "merge") for e in analysis.parents)
    truth = dict(zip(pop.ids, pop.true_parents))
    right = sum(e.parent in truth[e.child] for e in analysis.parents)
    assert right / len(analysis.parents) > 0.8


def test_parents_without_dates_form_a_forest(pop):
    a = analyse_population(pop.ids, pop.X)
    par = a.parent_of()
    for m in pop.ids:  # walking up always ends: no cycles
        seen, v = set(), m
        while v is not None:
            assert v not in seen
            seen.add(v)
            v = par[v]


def test_analysis_shapes_and_rerun_stability(pop, analysis):
    n = len(pop.ids)
    assert len(analysis.neighbours) == n * 10
    a, b, d, r = analysis.neighbours[0]
    assert r == 1 and a != b and d >= 0
    again = analyse_population(pop.ids, pop.X, release_dates=pop.release_dates, families=pop.families,
                               declared_parents=pop.declared_parents, declared_relations=pop.declared_relations)
    assert again.tree.root == analysis.tree.root and again.tree.nodes == analysis.tree.nodes
    assert again.parents == analysis.parents
    assert set(analysis.tree.leaves) == set(pop.ids)
    assert analysis.tree.to_newick().count("'") >= 2 * n  # ids hold '/', so they are quoted


def test_undocumented_and_conflicts_find_the_planted_errors(pop, analysis):
    truth = dict(zip(pop.ids, pop.true_parents))
    wrong = {(m, d[0]) for m, d, t in zip(pop.ids, pop.declared_parents, pop.true_parents) if d and d != t}
    assert wrong, "the simulation should plant wrong declared parents"
    flagged = {(c.child, c.declared_parent) for c in analysis.conflicts}
    assert wrong <= flagged
    hidden = {(t[0], m) for m, d, t in zip(pop.ids, pop.declared_parents, pop.true_parents) if t and not d}
    found = {(u.a, u.b) for u in analysis.undocumented if u.kind == "parent"}
    assert len(hidden & found) >= 0.7 * len(hidden)
    ps = [u.p_value for u in analysis.undocumented]
    assert ps == sorted(ps) and all(p <= analysis.fpr for p in ps)
    assert all(u.b in truth and u.a in pop.ids for u in analysis.undocumented)


def test_family_speed_recovers_a_known_slope():
    ids = [f"m{i}" for i in range(5)]
    dates = [dt.date(2020, 1, 1) + dt.timedelta(days=int(365.25 * t)) for t in (0, 0.5, 1, 2, 3)]
    r2t = {m: 0.3 * t + 1 for m, t in zip(ids, (0, 0.5, 1, 2, 3))}
    (s,) = family_speeds(ids, r2t, dates, ["f"] * 5)
    assert s.speed == pytest.approx(0.3, rel=1e-3) and s.r2 == pytest.approx(1.0, abs=1e-6)
    assert s.n_models == 5 and s.span_days == (dates[-1] - dates[0]).days
    assert family_speeds(ids[:1], r2t, dates[:1], ["g"]) == []


def test_faster_family_gets_higher_speed():
    pop = simulate_population(240, n_families=6, random_state=2)
    a = analyse_population(pop.ids, pop.X, release_dates=pop.release_dates, families=pop.families)
    est = {s.family: s.speed for s in a.family_speeds}
    fams = sorted(est)
    true = np.array([pop.family_rates[f] for f in fams])
    from scipy.stats import spearmanr
    assert spearmanr(true, [est[f] for f in fams]).statistic > 0


def test_evaluation_runs_on_a_simulation():
    from lineage.pipeline.evaluate import evaluate_population

    pop = simulate_population(120, random_state=8)
    ev = evaluate_population(pop.ids, pop.X, dict(zip(pop.ids, pop.true_parents)), dict(zip(pop.ids, pop.families)),
                             release_dates=pop.release_dates, families=pop.families,
                             declared_parents=pop.declared_parents, declared_relations=pop.declared_relations)
    v = ev.as_dict()
    assert v["parent_directed_accuracy"] > 0.7
    assert v["parent_undirected_accuracy"] >= v["parent_directed_accuracy"]
    assert 0 <= v["robinson_foulds_normalised"] <= 1
    assert v["related_null_by_model_auc"] > 0.8 and v["related_null_by_family_auc"] > 0.8
    assert v["related_null_by_model_realised_fpr"] < 0.05
    assert v["conflict_recall"] == 1.0


def test_a_negative_or_trendless_slope_is_not_a_speed():
    dates = [dt.date(2024, 1, 1) + dt.timedelta(days=60 * i) for i in range(5)]
    ids = [f"m{i}" for i in range(5)]
    falling = family_speeds(ids, {m: 1.0 - 0.1 * i for i, m in enumerate(ids)}, dates, ["f"] * 5)[0]
    assert falling.speed < 0 and not falling.valid and "negative" in falling.note
    noisy = family_speeds(ids, dict(zip(ids, [0.5, 0.1, 0.9, 0.05, 0.6])), dates, ["g"] * 5)[0]
    assert not noisy.valid and "no trend" in noisy.note
    rising = family_speeds(ids, {m: 0.2 * i for i, m in enumerate(ids)}, dates, ["h"] * 5)[0]
    assert rising.valid and rising.note == ""


def test_leave_groups_out_scores_every_pair_once_and_holds_the_fpr():
    """On families of independent models (every cross-family pair unrelated), each pair is
    scored once by a null fitted without its two families, and the realised false-positive
    rate sits near the target; with k folds only the pairs inside a fold were scored."""
    from lineage.core.score.evaluation import MAX_GROUP_PAIRS, cross_validate_relatedness

    rng = np.random.default_rng(5)
    n_fam, per = 12, 4
    centres = rng.normal(size=(n_fam, 32))
    X = np.repeat(centres, per, axis=0) + 0.35 * rng.normal(size=(n_fam * per, 32))
    fam = np.repeat(np.arange(n_fam), per)
    assert n_fam * (n_fam + 1) // 2 <= MAX_GROUP_PAIRS
    s = cross_validate_relatedness(X, fam, fam.tolist(), train_families=[str(f) for f in fam], fpr=0.05)
    n = len(fam)
    assert s.n_pos + s.n_neg == n * (n - 1) // 2  # every pair, once
    assert s.n_pos == n_fam * per * (per - 1) // 2
    assert 0.02 <= s.fpr <= 0.10  # within 2x of the target on 1,056 unrelated pairs
    assert s.recall == 1.0
