"""Weight evidence of heritage: sketches of weight matrices, their comparison, and what they say.

A model's 2-D weight matrices are too large to keep for every pair comparison, so each
matrix ``W`` (``m x n``) is kept as a *sketch* ``S = C W Omega`` (``n_rows x rank``):
``Omega`` (``n x rank``, Gaussian with variance ``1 / rank``) mixes the columns and ``C``
(a count sketch: each row of ``W`` added, with a random sign, into one of ``n_rows``
buckets) folds the rows. ``C`` and ``Omega`` are seeded by the matrix's *role* (its name
with the layer number removed, e.g. ``layers.*.self_attn.o_proj.weight``) and shape, so
every model's matrix of one role and shape gets the same maps. The sketch is linear, so:

* ``||S_a - S_b||_F^2`` is an unbiased estimate of ``||W_a - W_b||_F^2`` (weight distance
  without loading two models at once);
* ``cos(S_a, S_b)`` estimates the cosine of the two matrices: about 1 when one model
  derives from the other (fine-tunes move weights by a tiny fraction), about 0 for
  independently trained models (random initialisations share no direction);
* ``rank(S_c - S_p) <= rank(W_c - W_p)``: a low-rank adapter leaves a sketch difference
  of rank at most its own rank (``rank`` columns are kept, so ranks below it show);
* a merge ``W_c = a W_A + (1 - a) W_B`` holds exactly for the sketches too.

Relatedness test (after Zhu et al., "Independence tests for language models", which
matches neurons; here whole matrices of one role across layers): for a pair, the
cosines of matrices of the same role and *different* layers are the null (independent
matrices, the same maps), and the cosines of corresponding layers are the statistic.
Each corresponding cosine becomes a z-score against that within-pair null (its spread,
floored by the spread random sketches would have), and the z-scores combine by Stouffer.
The p-value needs no population of unrelated models, so it is valid with two models.
Models whose layer counts differ (depth pruning) are matched layer by layer: each
layer of the smaller model is paired with the larger model's layer of the same role
that it resembles most (the matching is the evidence of which layers were kept), and
the maximum over candidates is Bonferroni-corrected.

Not covered: permuted neurons (an adversary reordering hidden units defeats the
matrix cosine; Zhu et al.'s neuron matching does not), width pruning (different shapes
are not compared), and tokenizer changes (embeddings of other vocabularies are skipped).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import stats

SKETCH_ROWS = 256
SKETCH_RANK = 16
_LAYER = re.compile(r"\.(\d+)\.")
# p-values below this are reported as this (float64 and the normal tail run out of meaning)
P_FLOOR = 1e-300


def tensor_role(name: str) -> tuple[str, int | None]:
    """``("model.layers.*.mlp.up_proj.weight", 3)`` for ``"model.layers.3.mlp.up_proj.weight"``."""
    m = _LAYER.search(name)
    if m is None:
        return name, None
    return name[: m.start()] + ".*." + name[m.end():], int(m.group(1))


def _seed(role: str, shape: tuple[int, int]) -> int:
    h = hashlib.sha256(f"{role}|{shape[0]}x{shape[1]}".encode()).digest()
    return int.from_bytes(h[:8], "little")


def sketch_matrix(W: np.ndarray, role: str, *, n_rows: int = SKETCH_ROWS, rank: int = SKETCH_RANK) -> np.ndarray:
    """The sketch ``C W Omega`` of one matrix.

    Parameters
    ----------
    W : ndarray of shape (m, n)
    role : str
        Seeds the maps (with the shape), so matrices of one role share them.

    Returns
    -------
    ndarray of shape (n_rows, rank), float64
    """
    W = np.asarray(W)
    m, n = W.shape
    rng = np.random.default_rng(_seed(role, (m, n)))
    omega = rng.standard_normal((n, rank)) / np.sqrt(rank)
    bucket = rng.integers(0, n_rows, size=m)
    sign = rng.choice(np.array([-1.0, 1.0]), size=m)
    out = np.zeros((n_rows, rank))
    for s in range(0, m, 8192):  # row blocks bound the float64 copy of W
        block = np.asarray(W[s: s + 8192], dtype=np.float64) @ omega
        np.add.at(out, bucket[s: s + 8192], block * sign[s: s + 8192, None])
    return out


def excess_kurtosis(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v - v.mean()
    var = float(np.mean(v * v))
    return float(np.mean(v**4) / var**2 - 3.0) if var > 0 else 0.0


def distinct_per_group(W: np.ndarray, group: int = 32, max_groups: int = 4096, seed: int = 0) -> float:
    """Median number of distinct values in groups of ``group`` consecutive inputs of a row.

    Full-precision trained weights give ``group``; a ``b``-bit weight-only quantisation
    (one scale per group) gives at most ``2**b``: the quantisation fingerprint.
    """
    flat = np.asarray(W).reshape(-1)
    n_groups = flat.size // group
    if n_groups == 0:
        return float(len(np.unique(flat)))
    rng = np.random.default_rng(seed)
    pick = rng.choice(n_groups, size=min(n_groups, max_groups), replace=False)
    groups = flat[: n_groups * group].reshape(n_groups, group)[pick]
    s = np.sort(groups, axis=1)
    distinct = 1 + np.count_nonzero(np.diff(s, axis=1), axis=1)
    return float(np.median(distinct))


def grid_bits(W: np.ndarray, group: int = 32, max_groups: int = 2048, seed: int = 0) -> int | None:
    """Bits of a symmetric absmax weight-only quantisation the values sit on, or None.

    Weight-only quantisers (bitsandbytes, GPTQ/AWQ with zero points aside, the zoo's) store
    ``round(w / s) * s`` with ``s = max|group| / qmax``: every value of a group is an
    integer multiple of its scale. A full-precision matrix is not. Tested on a seeded
    sample of groups; a quantisation with a zero point (GGUF ``Q4_1``) is caught by
    :func:`distinct_per_group` instead.
    """
    flat = np.asarray(W, dtype=np.float64).reshape(-1)
    n_groups = flat.size // group
    if n_groups == 0:
        return None
    rng = np.random.default_rng(seed)
    pick = rng.choice(n_groups, size=min(n_groups, max_groups), replace=False)
    g = flat[: n_groups * group].reshape(n_groups, group)[pick]
    amax = np.abs(g).max(axis=1, keepdims=True)
    g, amax = g[amax[:, 0] > 0], amax[amax[:, 0] > 0]
    if g.size == 0:
        return None
    for bits in (2, 3, 4, 5, 6, 8):
        qmax = 2 ** (bits - 1) - 1
        r = g / amax * qmax
        if np.mean(np.max(np.abs(r - np.round(r)), axis=1) < 1e-3) >= 0.95:
            return bits
    return None


@dataclass
class WeightProfile:
    """What one model's weights say, small enough to keep for every model (a few MB).

    Attributes
    ----------
    signature : dict
        Architecture, widths, layer count, vocabulary size and tokenizer hash.
    sketches : dict of (role, layer) -> ndarray of shape (SKETCH_ROWS, SKETCH_RANK)
        One per 2-D weight matrix; ``layer`` is None outside the repeated blocks.
    norms2 : dict of (role, layer) -> float
        Squared Frobenius norm of each matrix (exact).
    shapes : dict of (role, layer) -> (int, int)
    stats : dict
        ``n_params``, ``kurtosis`` (mean excess kurtosis of attention output projections),
        ``zero_fraction`` (exact zeros among 2-D weights), ``distinct_per_group`` (median
        over projection matrices, groups of 32).
    """

    signature: dict
    sketches: dict = field(default_factory=dict)
    norms2: dict = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        layers = [k[1] for k in self.sketches if k[1] is not None]
        return max(layers) + 1 if layers else 0

    def duplicated_layers(self, threshold: float = 0.5) -> int:
        """How many layers repeat an earlier layer of the same model: the mark of depth
        up-scaling (SOLAR 10.7B duplicates a block of layers, then heals it by training).

        Two layers count as copies when, over the roles both have, their sketches differ by
        less than ``threshold`` relative to the earlier one's norm (sketches of one role and
        shape share their random maps, so they compare like the same matrix). Distinct
        trained layers sit near sqrt(2) (independent); healed copies far below 0.5.
        """
        by_layer: dict[int, dict[str, np.ndarray]] = {}
        for (role, layer), s in self.sketches.items():
            if layer is not None:
                by_layer.setdefault(layer, {})[role] = s
        layers = sorted(by_layer)
        dups = 0
        for jx, j in enumerate(layers):
            for i in layers[:jx]:
                shared = [r for r in by_layer[j] if r in by_layer[i] and by_layer[i][r].shape == by_layer[j][r].shape]
                if not shared:
                    continue
                num = sum(float(np.sum((by_layer[j][r] - by_layer[i][r]) ** 2)) for r in shared)
                den = sum(float(np.sum(by_layer[i][r] ** 2)) for r in shared)
                if den > 0 and np.sqrt(num / den) < threshold:
                    dups += 1
                    break
        return dups

    def roles(self) -> dict[str, list[int | None]]:
        out: dict[str, list[int | None]] = {}
        for role, layer in self.sketches:
            out.setdefault(role, []).append(layer)
        return out

    @property
    def quantized_bits(self) -> int | None:
        """Bits of a weight-only quantisation the weights show (None when full precision)."""
        if self.stats.get("grid_bits"):
            return int(self.stats["grid_bits"])
        d = self.stats.get("distinct_per_group")
        if d is None or d > 16:
            return None
        return int(np.ceil(np.log2(max(d, 2))))


def profile_from_matrices(matrices: Mapping[str, np.ndarray], signature: dict, *, n_params: int | None = None,
                          skip: Sequence[str] = ()) -> WeightProfile:
    """Sketch and summarise named 2-D matrices (pure; adapters stream them in from files).

    ``matrices`` may be a lazy mapping: each value is read once.
    """
    prof = WeightProfile(signature=dict(signature))
    kurts, distinct, grids, zeros, total = [], [], [], 0, 0
    for name in matrices:
        if any(s in name for s in skip):
            continue
        W = np.asarray(matrices[name])
        if W.ndim != 2 or min(W.shape) < 2:
            continue
        role, layer = tensor_role(name)
        key = (role, layer)
        prof.sketches[key] = sketch_matrix(W, role)
        prof.norms2[key] = float(np.sum(np.square(W, dtype=np.float64)))
        prof.shapes[key] = tuple(int(x) for x in W.shape)
        zeros += int(W.size - np.count_nonzero(W))
        total += W.size
        if layer is not None and re.search(r"(o_proj|attn\.c_proj|out_proj|dense)\.weight$", name):
            kurts.append(excess_kurtosis(W))
        if layer is not None and W.shape[1] % 32 == 0:
            distinct.append(distinct_per_group(W))
            if len(grids) < 8:  # a few matrices tell; the test costs a pass over a sample
                # group-wise (GPTQ/AWQ/bitsandbytes-style groups of 32), else per output channel
                # (int8/int4 with one scale per row, as torch's dynamic and LLM.int8 quantisers store it)
                grids.append(grid_bits(W) or grid_bits(W, group=W.shape[1], max_groups=256))
    prof.stats = {
        "n_params": int(n_params if n_params is not None else total),
        "kurtosis": float(np.mean(kurts)) if kurts else None,
        "zero_fraction": zeros / total if total else 0.0,
        "distinct_per_group": float(np.median(distinct)) if distinct else None,
        # the grid all sampled matrices sit on (None when any is off-grid: full precision)
        "grid_bits": (max(grids) if grids and all(b is not None for b in grids) else None),
    }
    return prof


# ---- pair comparison ------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightComparison:
    """What the weights of two models say about the pair (``a`` vs ``b``).

    Attributes
    ----------
    applicable : bool
        False when no matrix of one role has one shape in both (other architecture,
        widths or vocabulary): the channel is then silent.
    n_matched : int
        Matrices compared.
    coverage : float
        Matched matrices over the smaller model's matrices.
    cosine : float
        Norm-weighted mean cosine of matched matrices (~1 shared heritage, ~0 independent).
    distance : float
        Relative weight distance ``||W_a - W_b|| / ||W_b||`` over matched matrices.
    p_value : float
        Of "independent weights"; small means related.
    layer_map : tuple of int, optional
        When layer counts differ: for each layer of the smaller model, the layer of the
        larger model it matches.
    """

    applicable: bool
    n_matched: int = 0
    coverage: float = 0.0
    cosine: float = 0.0
    distance: float = float("nan")
    p_value: float = 1.0
    z: float = 0.0
    layer_map: tuple[int, ...] | None = None

    @property
    def related(self) -> bool:  # at the default strictness; callers compare p_value with their fpr
        return self.applicable and self.p_value <= 0.01


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(np.vdot(a, b) / (na * nb)) if na > 0 and nb > 0 else 0.0


def _pairs(a: WeightProfile, b: WeightProfile) -> tuple[list[tuple[tuple, tuple]], tuple[int, ...] | None, list[float]]:
    """Matched (key_a, key_b) pairs, the layer map (when depths differ) and null cosines."""
    roles_a, roles_b = a.roles(), b.roles()
    null: list[float] = []
    matched: list[tuple[tuple, tuple]] = []
    la, lb = a.n_layers, b.n_layers
    layer_map: tuple[int, ...] | None = None
    # repeated blocks: per role, a cosine matrix between layers of a and layers of b
    cos_sum = None
    per_role: dict[str, np.ndarray] = {}
    for role in sorted(set(roles_a) & set(roles_b)):
        la_r = sorted(x for x in roles_a[role] if x is not None)
        lb_r = sorted(x for x in roles_b[role] if x is not None)
        if not la_r or not lb_r:
            continue
        if a.shapes[(role, la_r[0])] != b.shapes[(role, lb_r[0])]:
            continue
        M = np.array([[_cos(a.sketches[(role, i)], b.sketches[(role, j)]) for j in lb_r] for i in la_r])
        per_role[role] = M
        if M.shape == (la, lb):
            cos_sum = M if cos_sum is None else cos_sum + M
    if per_role and cos_sum is not None:
        if la == lb:
            pairing = list(range(la)), list(range(lb))
        else:
            # the smaller model's layers, each to the larger one's layer it resembles most,
            # keeping the order (kept layers stay in order): a monotone matching by dynamic programming
            small_is_a = la < lb
            S = cos_sum if small_is_a else cos_sum.T
            idx = _monotone_match(S)
            layer_map = tuple(idx)
            pairing = (list(range(S.shape[0])), idx) if small_is_a else (idx, list(range(S.shape[0])))
        for role, M in per_role.items():
            for i, j in zip(*pairing):
                matched.append(((role, i), (role, j)))
            if M.shape[0] > 1 and M.shape[1] > 1:
                mask = np.ones_like(M, dtype=bool)
                mask[pairing[0], pairing[1]] = False
                null.extend(M[mask].tolist())
    # matrices outside the repeated blocks (embeddings, final projections) of one role and shape
    for role, layers in roles_a.items():
        if None in layers and None in roles_b.get(role, []) and a.shapes[(role, None)] == b.shapes[(role, None)]:
            matched.append(((role, None), (role, None)))
    return matched, layer_map, null


def _monotone_match(S: np.ndarray) -> list[int]:
    """Strictly increasing assignment of rows (fewer) to columns maximising the summed score."""
    n, m = S.shape
    best = np.full((n + 1, m + 1), -np.inf)
    best[0, :] = 0.0
    take = np.zeros((n + 1, m + 1), dtype=bool)
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            skip = best[i, j - 1]
            use = best[i - 1, j - 1] + S[i - 1, j - 1]
            if use >= skip:
                best[i, j], take[i, j] = use, True
            else:
                best[i, j] = skip
    out, j = [], m
    for i in range(n, 0, -1):
        while not take[i, j]:
            j -= 1
        out.append(j - 1)
        j -= 1
    return out[::-1]


def compare_weights(a: WeightProfile, b: WeightProfile) -> WeightComparison:
    """Compare two models' weights (see the module docstring for the test)."""
    matched, layer_map, null = _pairs(a, b)
    n_small = min(len(a.sketches), len(b.sketches))
    if not matched or n_small == 0:
        return WeightComparison(applicable=False)
    cos = np.array([_cos(a.sketches[ka], b.sketches[kb]) for ka, kb in matched])
    w = np.array([np.sqrt(a.norms2[ka] * b.norms2[kb]) for ka, kb in matched])
    diff2 = sum(float(np.sum((a.sketches[ka] - b.sketches[kb]) ** 2)) for ka, kb in matched)
    ref2 = sum(b.norms2[kb] for _, kb in matched)
    # null spread: cosines of independent matrices under the same maps; never below the
    # spread of random sketches (1 / sqrt(effective dimension))
    floor = 1.0 / np.sqrt(SKETCH_RANK * min(SKETCH_ROWS, min(s[0] for s in a.shapes.values())))
    sd = max(float(np.std(null)) if len(null) >= 10 else 0.0, floor)
    mu = float(np.mean(null)) if len(null) >= 10 else 0.0
    z_each = (cos - mu) / sd
    if layer_map is not None:
        # a maximum over the larger model's layers: Bonferroni on each matched layer's p-value
        n_cand = max(a.n_layers, b.n_layers)
        p_each = np.minimum(1.0, n_cand * stats.norm.sf(z_each))
        z_each = stats.norm.isf(np.clip(p_each, 1e-300, 1.0))
    z = float(np.sum(z_each) / np.sqrt(len(z_each)))
    p = float(max(stats.norm.sf(z), P_FLOOR))
    return WeightComparison(
        applicable=True, n_matched=len(matched), coverage=len(matched) / n_small,
        cosine=float(np.sum(cos * w) / np.sum(w)), distance=float(np.sqrt(max(diff2, 0.0) / ref2)) if ref2 else 0.0,
        p_value=p, z=z, layer_map=layer_map,
    )


def _matched_diffs(child: WeightProfile, parent: WeightProfile) -> list[tuple[tuple, tuple]]:
    matched, _, _ = _pairs(child, parent)
    return matched


def difference_rank(child: WeightProfile, parent: WeightProfile, *, rel_tol: float = 1e-2) -> float | None:
    """Median numerical rank of the sketch differences of the matrices that changed.

    A low-rank adapter of rank ``r < SKETCH_RANK`` gives about ``r``; a full fine-tune,
    quantisation noise or pruning-and-healing give about ``SKETCH_RANK``. None when no
    matrix changed measurably.
    """
    ranks = []
    for kc, kp in _matched_diffs(child, parent):
        D = child.sketches[kc] - parent.sketches[kp]
        scale = np.linalg.norm(parent.sketches[kp])
        if np.linalg.norm(D) <= 1e-6 * max(scale, 1e-30):
            continue
        s = np.linalg.svd(D, compute_uv=False)
        ranks.append(int(np.sum(s > rel_tol * s[0])))
    return float(np.median(ranks)) if ranks else None


def merge_fit(child: WeightProfile, a: WeightProfile, b: WeightProfile) -> tuple[float, float]:
    """Fit ``W_child ~ t W_a + (1 - t) W_b`` on the sketches.

    Returns
    -------
    t : float
    residual : float
        ``||W_c - fit|| / min(||W_c - W_a||, ||W_c - W_b||)``: near 0 for a merge of
        ``a`` and ``b``, near 1 or above otherwise. ``inf`` when the three do not match.
    """
    if not child.n_layers == a.n_layers == b.n_layers:
        return float("nan"), float("inf")
    keys = [k for k in child.sketches if k in a.sketches and k in b.sketches
            and child.shapes[k] == a.shapes[k] == b.shapes[k]]
    if not keys:
        return float("nan"), float("inf")
    c = np.concatenate([child.sketches[k].ravel() for k in keys])
    va = np.concatenate([a.sketches[k].ravel() for k in keys])
    vb = np.concatenate([b.sketches[k].ravel() for k in keys])
    d = va - vb
    dd = float(d @ d)
    if dd == 0:
        return float("nan"), float("inf")
    t = float((c - vb) @ d / dd)
    res = float(np.linalg.norm(c - vb - t * d))
    ref = min(float(np.linalg.norm(c - va)), float(np.linalg.norm(c - vb)))
    return t, (res / ref if ref > 0 else float("inf"))
