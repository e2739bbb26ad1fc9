"""Score inferred lineage against a known genealogy (pure: arrays in, rows out; files are read by
:mod:`lineage.pipeline.evaluate`).

What is scored (see docs/phylogeny.md for the reasoning):

* parents: directed accuracy (parent and direction right), undirected accuracy,
  precision of the inferred edges, and roots left parentless;
* relatedness at the chosen false-positive rate: precision, recall, F1, AUC and
  the realised FPR, with cross-validation over groups: ``split="model"`` puts
  whole models in folds, ``split="family"`` whole families; a test pair has both
  models in the test fold, so no model (or family) is seen in training and in
  test. Splitting pair rows instead leaks (a model's DNA sits on both sides);
  the paper's 0.92 F1 came from such a split. "Related" means "in the same
  true genealogy" (joined by true parent edges);
* normalised Robinson-Foulds distance between the inferred tree and the true
  genealogy drawn as a tree whose leaves are all models
  (:func:`lineage.core.infer.tree.tree_from_genealogy`);
* undocumented relations and conflicts, when declared metadata (a manifest) is
  given: precision against the truth, recall of the true parent edges missing
  from the metadata, and of the wrong declared parents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np

from lineage.core.infer.analysis import Analysis, analyse_population, lineage_components
from lineage.core.measure.distances import pair_distances
from lineage.core.score.metrics import binary_scores, binomial_interval, group_folds, parent_accuracy, set_scores
from lineage.core.channels.relatedness import PairClassifier, fit_null
from lineage.core.infer.tree import robinson_foulds, tree_from_genealogy

Split = Literal["model", "family"]
Classifier = Literal["null", "svm"]


@dataclass(frozen=True)
class EvaluationRow:
    metric: str
    value: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class Evaluation:
    """The scores (rows) and the analysis they were computed from."""

    rows: list[EvaluationRow]
    analysis: Analysis

    def as_dict(self) -> dict[str, float]:
        return {r.metric: r.value for r in self.rows}


def _related_labels(ids: Sequence[str], true_parents: Mapping[str, Sequence[str]]) -> np.ndarray:
    comp = lineage_components(ids, [list(true_parents.get(m, ())) for m in ids])
    return np.array([comp[m] for m in ids])


def cross_validate_relatedness(
    X: np.ndarray,
    lineage_of: np.ndarray,
    groups: Sequence,
    *,
    train_families: Sequence[str | None] | None = None,
    classifier: Classifier = "null",
    fpr: float = 0.01,
    n_splits: int = 5,
    max_train_pairs: int = 2000,
    random_state: int = 0,
    weight_p: np.ndarray | None = None,
):
    """Group-disjoint cross-validation of pair relatedness.

    The null classifier scores every pair against a null fitted without either of its
    groups (:func:`_leave_groups_out`) when there are at most ``MAX_GROUP_PAIRS`` pairs of
    groups; above that, and always for the SVM, ``n_splits`` group folds are used and only
    pairs inside one test fold are scored.

    Parameters
    ----------
    X : ndarray of shape (n_models, n_dims)
    lineage_of : ndarray of shape (n_models,)
        True genealogy label; a pair is related when the labels are equal.
    groups : sequence, length n_models
        Fold groups (the model id, or its family).
    train_families : sequence of str or None, optional
        Families known for training models (the null uses between-family pairs).
    classifier : {"null", "svm"}
        ``"null"``: p-value against the null fitted on training models, related
        when ``p <= fpr``. ``"svm"``: the paper's RBF-SVM trained on training pairs.
    weight_p : ndarray of shape (n_models, n_models), optional
        The weights channel's p-value per pair (NaN where it does not apply; 1 for two
        open-weight models of different vocabularies whose weights cannot be compared,
        which the inference never relates by behaviour alone). Where given it replaces
        the DNA's p-value (the strongest channel decides); it needs no training, so only
        the DNA null is fitted on the training folds.

    Returns
    -------
    BinaryScores
        Pooled over the scored test pairs.
    """
    X = np.asarray(X)
    ys, preds, scores = [], [], []
    rng = np.random.default_rng(random_state)
    n_groups = len(set(groups))
    if n_groups < 4:
        raise ValueError(f"a group-disjoint split needs at least 4 groups, got {n_groups}")
    if classifier == "null" and n_groups * (n_groups + 1) // 2 <= MAX_GROUP_PAIRS:
        return _leave_groups_out(X, lineage_of, groups, train_families, fpr, random_state, weight_p)
    # every test fold holds at least two groups, so it has unrelated pairs to score
    for test in group_folds(groups, min(n_splits, n_groups // 2), random_state):
        train = np.setdiff1d(np.arange(X.shape[0]), test)
        if len(test) < 2 or len(train) < 3:
            continue
        ti, tj = np.triu_indices(len(test), 1)
        a, b = test[ti], test[tj]
        y = lineage_of[a] == lineage_of[b]
        if classifier == "null":
            pred, score = _null_test(X, train, a, b, train_families, fpr, random_state, weight_p)
            preds.append(pred)
            scores.append(score)
        else:
            ri, rj = np.triu_indices(len(train), 1)
            ra, rb = train[ri], train[rj]
            ry = lineage_of[ra] == lineage_of[rb]
            pos, neg = np.flatnonzero(ry), np.flatnonzero(~ry)
            if len(pos) == 0 or len(neg) == 0:
                continue
            keep_neg = rng.choice(neg, size=min(len(neg), max(max_train_pairs - len(pos), len(pos))), replace=False)
            keep = np.concatenate([pos[: max_train_pairs], keep_neg])
            clf = PairClassifier(random_state=random_state).fit(X[ra[keep]], X[rb[keep]], ry[keep])
            score = clf.decision_function(X[a], X[b])
            preds.append(score > 0)
            scores.append(score)
        ys.append(y)
    if not ys:
        raise ValueError("no fold had enough models to test; use fewer splits or more models")
    return binary_scores(np.concatenate(ys), np.concatenate(preds), np.concatenate(scores))


MAX_GROUP_PAIRS = 600  # above this many pairs of groups, the null is cross-validated in k folds


def _null_test(X, train, a, b, train_families, fpr, random_state, weight_p):
    """Pairs ``(a, b)`` tested against the null fitted on the ``train`` models: (related at
    ``fpr``, score). Where ``weight_p`` applies its p-value replaces the DNA's, and the score is
    ``-log10 p``; else it is the negated DNA distance. Raises ValueError from :func:`fit_null`."""
    fams = [train_families[t] for t in train] if train_families is not None else None
    null = fit_null(X[train], families=fams, random_state=random_state)
    d = pair_distances(X, a, b, metric=null.metric)
    p = null.p_value(d)
    if weight_p is None:
        return p <= fpr, -d
    wp = weight_p[a, b]
    p = np.where(np.isnan(wp), p, wp)
    return p <= fpr, -np.log10(np.maximum(p, 1e-300))


def _leave_groups_out(X, lineage_of, groups, train_families, fpr, random_state, weight_p):
    """Every pair scored once, by a null fitted without either of its models' groups.

    A pair of models from groups ``g`` and ``h`` is tested against the null of the models
    outside ``g`` and ``h`` (for a pair inside one group, outside ``g``), so neither model
    nor anything of its group is seen in fitting. Unlike k folds, which test only the pairs
    that fall in one fold (about 1/k of them), every pair of the population is scored:
    the realised false-positive rate is measured on all unrelated pairs. It takes one fit
    per pair of groups (cheap: a null is a sorted array of distances).
    """
    gid = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    g = np.array([gid[x] for x in groups])
    i, j = np.triu_indices(X.shape[0], 1)
    key = np.minimum(g[i], g[j]) * len(gid) + np.maximum(g[i], g[j])
    ys, preds, scores = [], [], []
    for k in np.unique(key):
        sel = key == k
        a, b = i[sel], j[sel]
        train = np.flatnonzero((g != g[a[0]]) & (g != g[b[0]]))
        if len(train) < 3:
            continue
        try:
            pred, score = _null_test(X, train, a, b, train_families, fpr, random_state, weight_p)
        except ValueError:  # too few pairs outside these groups
            continue
        ys.append(lineage_of[a] == lineage_of[b])
        preds.append(pred)
        scores.append(score)
    if not ys:
        raise ValueError("no pair of groups left enough models to fit a null; use more models")
    return binary_scores(np.concatenate(ys), np.concatenate(preds), np.concatenate(scores))


def evaluate_population(
    ids: Sequence[str],
    X: np.ndarray,
    true_parents: Mapping[str, Sequence[str]],
    true_families: Mapping[str, str],
    *,
    release_dates: Sequence[dt.date | None] | None = None,
    families: Sequence[str | None] | None = None,
    declared_parents: Sequence[Sequence[str]] | None = None,
    declared_relations: Sequence[str | None] | None = None,
    fpr: float = 0.01,
    splits: Sequence[Split] = ("model", "family"),
    classifiers: Sequence[Classifier] = ("null",),
    n_splits: int = 5,
    method: str = "nj",
    root: str = "midpoint",
    k: int = 10,
    random_state: int = 0,
    weights: Sequence[object | None] | None = None,
    true_relations: Mapping[tuple[str, str], str] | None = None,
    refine=None,
    logits: Sequence[object | None] | None = None,
) -> Evaluation:
    """Infer lineage for a population and score it against the truth.

    Parameters
    ----------
    ids : sequence of str, length n_models
    X : ndarray of shape (n_models, n_dims)
    true_parents : mapping of id to list of id
    true_families : mapping of id to family
    release_dates, families, declared_parents, declared_relations : optional
        The metadata the inference may use (from a manifest). Undocumented and
        conflict scores need ``declared_parents``.
    fpr : float
    splits : sequence of {"model", "family"}
    classifiers : sequence of {"null", "svm"}
    n_splits : int
        Folds per split.
    weights : sequence of WeightProfile or None, optional
        Weight evidence (see :func:`lineage.core.infer.analysis.analyse_population`).
    true_relations : mapping of (parent, child) to relation, optional
        Scores the derivation kind of each true edge (rows ``kind_<relation>``).

    Returns
    -------
    Evaluation
    """
    ids = list(ids)
    analysis = analyse_population(
        ids, X, release_dates=release_dates, families=families, declared_parents=declared_parents,
        declared_relations=declared_relations, k=k, method=method, root=root, fpr=fpr, random_state=random_state,
        weights=weights, refine=refine, logits=logits,
    )
    rows: list[EvaluationRow] = []
    acc = parent_accuracy(analysis.parent_of(), true_parents)
    rows += [
        EvaluationRow("parent_directed_accuracy", acc.directed, acc.n_children, "parent and direction right"),
        EvaluationRow("parent_undirected_accuracy", acc.undirected, acc.n_children, "edge found, either direction"),
        EvaluationRow("parent_precision", acc.precision, acc.n_inferred, "inferred edges that are true"),
        EvaluationRow("root_accuracy", acc.root_accuracy, acc.n_roots, "true roots left parentless"),
    ]
    rf = robinson_foulds(analysis.tree, tree_from_genealogy(ids, true_parents))
    rows.append(EvaluationRow("robinson_foulds_normalised", rf.normalised, rf.n_leaves,
                              f"RF {rf.distance} of {rf.max_distance} splits"))

    rows += confidence_rows(analysis, true_parents)
    if true_relations is not None:
        rows += kind_rows(analysis, true_relations)
    lineage_of = _related_labels(ids, true_parents)
    train_fams = [true_families.get(m) for m in ids]
    weight_p = None
    if analysis.pairs is not None and weights is not None:
        from lineage.core.infer.combine import foreign_vocabularies
        from lineage.core.channels.weights import compare_weights

        weight_p = np.full((len(ids), len(ids)), np.nan)
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                if weights[i] is not None and weights[j] is not None:
                    key = (i, j)
                    c = analysis.pairs.weights.get(key) or compare_weights(weights[i], weights[j])
                    if c.applicable:
                        weight_p[i, j] = weight_p[j, i] = c.p_value
                    elif foreign_vocabularies(weights[i], weights[j]):
                        weight_p[i, j] = weight_p[j, i] = 1.0  # never related by behaviour alone (core.infer.combine)
    for split in splits:
        groups = ids if split == "model" else [true_families.get(m, m) for m in ids]
        for clf in classifiers:
            try:
                s = cross_validate_relatedness(X, lineage_of, groups, train_families=train_fams, classifier=clf,
                                               fpr=fpr, n_splits=n_splits, random_state=random_state,
                                               weight_p=weight_p if clf == "null" else None)
            except ValueError as e:
                rows.append(EvaluationRow(f"related_{clf}_by_{split}_f1", float("nan"), 0, str(e)))
                continue
            tag = f"related_{clf}_by_{split}"
            note = f"{s.n_pos} related / {s.n_neg} unrelated test pairs"
            rows += [
                EvaluationRow(f"{tag}_precision", s.precision, s.n_pos + s.n_neg, note),
                EvaluationRow(f"{tag}_recall", s.recall, s.n_pos, ""),
                EvaluationRow(f"{tag}_f1", s.f1, s.n_pos + s.n_neg, ""),
                EvaluationRow(f"{tag}_auc", s.auc, s.n_pos + s.n_neg, ""),
                EvaluationRow(f"{tag}_realised_fpr", s.fpr, s.n_neg, f"{_rate_note(s.n_fp, s.n_neg, 'called related')}; target {fpr:g}" if clf == "null"
                             else "SVM decision > 0"),
            ]

    if declared_parents is not None:
        pop = set(ids)
        decl = {m: [p for p in ps] for m, ps in zip(ids, declared_parents)}
        dcomp = lineage_components(ids, [decl[m] for m in ids])
        true_lin = dict(zip(ids, lineage_of.tolist()))
        hidden = {frozenset((p, c)) for c in ids for p in true_parents.get(c, ())
                  if p in pop and dcomp[p] != dcomp[c]}
        found = {frozenset((u.a, u.b)) for u in analysis.undocumented}
        prec = (sum(true_lin[u.a] == true_lin[u.b] for u in analysis.undocumented) / len(analysis.undocumented)
                if analysis.undocumented else float("nan"))
        rec = len(found & hidden) / len(hidden) if hidden else float("nan")
        # the tool's own decisions: of the unrelated pairs the metadata does not link, how many
        # it reported as related (blind: every unrelated pair; no label entered the inference)
        n_unrel = sum(true_lin[a] != true_lin[b] and dcomp[a] != dcomp[b]
                      for k, a in enumerate(ids) for b in ids[k + 1:])
        k_false = sum(true_lin[u.a] != true_lin[u.b] for u in analysis.undocumented)
        rows += [
            EvaluationRow("undocumented_precision", prec, len(analysis.undocumented), "reported pairs truly related"),
            EvaluationRow("undocumented_recall", rec, len(hidden), "true parent edges missing from metadata, reported"),
            EvaluationRow("undocumented_realised_fpr", k_false / n_unrel if n_unrel else float("nan"), n_unrel,
                          _rate_note(k_false, n_unrel, "reported")),
        ]
        wrong = {(c, p) for c in ids for p in decl[c] if p in pop and p not in true_parents.get(c, ())}
        flagged = {(x.child, x.declared_parent) for x in analysis.conflicts}
        cp, cr, _ = set_scores(flagged, wrong)
        rows += [
            EvaluationRow("conflict_precision", cp, len(flagged), "flagged declared parents that are wrong"),
            EvaluationRow("conflict_recall", cr, len(wrong), "wrong declared parents flagged"),
        ]
    return Evaluation(rows=rows, analysis=analysis)


def _rate_note(k: int, n: int, what: str) -> str:
    lo, hi = binomial_interval(k, n)
    return f"{k} of {n} unrelated pairs {what}; 95% CI {lo:.3f}-{hi:.3f}"


CONFIDENCE_BINS = ((0.0, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.0001))


def confidence_rows(analysis: Analysis, true_parents: Mapping[str, Sequence[str]]) -> list[EvaluationRow]:
    """Confidence against correctness: per confidence bin, the share of inferred edges that are
    true parent edges (a calibrated 0.9 is right about 9 times in 10), with its interval."""
    rows = []
    for lo, hi in CONFIDENCE_BINS:
        edges = [e for e in analysis.parents if lo <= e.confidence < hi]
        right = sum(e.parent in true_parents.get(e.child, ()) for e in edges)
        mean = float(np.mean([e.confidence for e in edges])) if edges else float("nan")
        a, b = binomial_interval(right, len(edges)) if edges else (float("nan"), float("nan"))
        rows.append(EvaluationRow(f"confidence_{lo:.2f}_{min(hi, 1.0):.2f}_right",
                                  right / len(edges) if edges else float("nan"), len(edges),
                                  f"{right} of {len(edges)} right, mean confidence {mean:.2f}; 95% CI {a:.2f}-{b:.2f}"
                                  if edges else "no edge in this bin"))
    return rows


def kind_rows(analysis: Analysis, true_relations: Mapping[tuple[str, str], str]) -> list[EvaluationRow]:
    """Per true relation kind: how many true edges were inferred (parent right), and with the right kind."""
    inferred = {(p.parent, p.child): p.kind for p in analysis.parents}
    by_kind: dict[str, list[tuple[bool, bool]]] = {}
    pop = set(analysis.ids)
    for (parent, child), rel in sorted(true_relations.items()):
        if parent not in pop or child not in pop:
            continue
        got = inferred.get((parent, child))
        by_kind.setdefault(rel, []).append((got is not None, got == rel))
    rows = []
    for rel, xs in sorted(by_kind.items()):
        found = sum(f for f, _ in xs)
        right = sum(r for _, r in xs)
        rows.append(EvaluationRow(f"kind_{rel}", right / len(xs), len(xs),
                                  f"edge found {found}/{len(xs)}, kind right {right}/{len(xs)}"))
    return rows


def evaluate_channels(pop, true_parents: Mapping[str, Sequence[str]], true_families: Mapping[str, str],
                      **kwargs) -> dict[str, Evaluation]:
    """Score a :class:`~lineage.core.infer.population.Population` with the DNA alone (``"dna"``) and,
    when its weight or next-token evidence applies to any model, with every channel
    (``"combined"``). ``kwargs`` go to :func:`evaluate_population`."""
    sets = {"dna": pop.without_weights()}
    if pop.has_weights or pop.has_logits:
        sets["combined"] = pop
    return {name: evaluate_population(list(p.ids), p.X, true_parents, true_families, **p.analysis_kwargs(), **kwargs)
            for name, p in sets.items()}
