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

Matched test (permutation-invariant; after Zhu et al.'s neuron matching, with REEF's point
that function-preserving transformations must not hide a model's source). Reordering the
MLP's hidden units, the attention heads or the residual basis leaves a model's function
unchanged and makes every matrix look independent of its source. Each profile therefore
also keeps, for up to :data:`UNIT_LAYERS` evenly spaced layers (all layers of models up to
12 deep; SmolLM2's 30 layers give 12, about 5 MB in float16: 12 x 1536 units x 3 parts x
48 probes; a dozen layers are enough for a test that needs only the layers to agree, and a
larger choice costs memory in every cached profile), a *signature* per MLP unit
(:func:`unit_signatures`): its input weights seen through the embeddings of a fixed list of
probe tokens, chosen by token string (:data:`PROBE_STRINGS`, single characters: a vocabulary
extension or re-ordering keeps them), scaled by the weight of the norm the MLP reads through,
and its output column seen through the same embeddings. These do not change under a
permutation of the residual basis, nor under a rotation of it once the norm weight is folded
into the projections (QuaRot-style), and a reordering of the units reorders them. At
comparison, when the direct test is not already decisive (p above :data:`MATCH_SKIP_P`), the
units of corresponding layers are matched one to one (``linear_sum_assignment`` on the
signatures' cosine; the narrower model's first :data:`MATCH_UNITS` units into the wider
one's, so a width-pruned child matches the units it kept) and each corresponding layer's mean
matched cosine is a z-score against the within-pair null: the same matching between
*non*-corresponding layers, its spread floored by the units' own spread over sqrt(units) and
widened by sqrt(1 + 1/n) for the estimated centre; Stouffer over layers (a Bonferroni factor
when depths differ, as above). Signatures are whitened over the probe directions first, so
how anisotropic a layer is does not decide how well it matches. Two tests were tried, so the
channel's p-value is ``min(1, 2 min(p_direct, p_matched))`` (Bonferroni). On 200 pairs of
independent synthetic models the matched test called 0 related at p <= 0.01 and 5 at 0.05
(tests/unit/test_weights_matched.py; docs/phylogeny.md gives the figures). Its open risk:
models trained independently on the *same* data have units that respond alike to the probe
tokens, which the null of non-corresponding layers does not absorb (tiny same-data twins:
corresponding-layer z-scores biased upwards by about 1; docs/accuracy.md).

Not covered: a rotation of the residual basis *without* folding the norm weights (not
function-preserving with RMSNorm/LayerNorm weights, so not a hiding derivation in practice,
but a general invertible map of the residual defeats the signatures); width pruning of the
residual stream itself (the hidden size differs and pairs of other widths are not compared
by weights at all); other MLP layouts than llama's gated and GPT-2's (no signatures: the
direct test alone); a vocabulary *replacement* that keeps fewer than :data:`MIN_PROBES`
probe characters; and tokenizer changes for the direct test (embeddings of other shapes are
skipped; the layers still compare).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
from scipy import optimize, stats

SKETCH_ROWS = 256
SKETCH_RANK = 16
# ---- the permutation-invariant (matched) test: see "Matched test" in the module docstring ----
# probe tokens, by string: single characters, present as tokens in byte-level BPE and
# SentencePiece vocabularies alike, and kept (with their ids) by a vocabulary extension
PROBE_STRINGS = tuple("etaoinshrdlucmfwypvbgkqjxz0123456789") + tuple(".,:;()=_-'\"/")
MIN_PROBES = 8  # fewer shared probe tokens than this: the matched test does not apply
UNIT_LAYERS = 12  # at most this many layers (evenly spaced) keep unit signatures
MATCH_UNITS = 128  # units of the narrower model matched per layer pair
# a direct p-value at or below this is not improved on: the matched test is not run
MATCH_SKIP_P = 1e-6
WHITEN_SHRINK = 0.1  # shrinkage of the probe covariance towards its mean eigenvalue before whitening
EMBEDDING_ROLE = re.compile(r"(^|\.)(embed_tokens|wte|word_embeddings|embed_in)\.weight$")
# the norm each MLP reads through (llama/qwen/mistral, gpt2, gemma)
_MLP_NORM = ("post_attention_layernorm.weight", "ln_2.weight", "pre_feedforward_layernorm.weight")
# (part, name suffix, layout): "linear" weights are (out, in) as nn.Linear stores them, "conv1d"
# (GPT-2) (in, out); "in" parts read the residual stream, "out" parts write it
_MLP_PARTS = (("up", "mlp.up_proj.weight", "linear", "in"), ("gate", "mlp.gate_proj.weight", "linear", "in"),
              ("down", "mlp.down_proj.weight", "linear", "out"),
              ("up", "mlp.c_fc.weight", "conv1d", "in"), ("down", "mlp.c_proj.weight", "conv1d", "out"))
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
    # unit signatures (the matched test): layer -> (n_units, n_parts, n_probes) float16
    units: dict = field(default_factory=dict)
    unit_parts: tuple = ()
    unit_probes: tuple = ()

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
                          skip: Sequence[str] = (), probe_ids: Mapping[str, int] | None = None) -> WeightProfile:
    """Sketch and summarise named 2-D matrices (pure; adapters stream them in from files).

    ``matrices`` may be a lazy mapping: each value is read once, except the token embedding,
    the MLP norms and the MLP matrices of up to :data:`UNIT_LAYERS` layers, read a second time
    for the unit signatures (:func:`unit_signatures`) when ``probe_ids`` (token string -> row
    of the embedding, from the tokenizer) is given.
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
    if probe_ids is not None:
        got = unit_signatures(matrices, probe_ids)
        if got is not None:
            prof.units, prof.unit_parts, prof.unit_probes = got
    return prof


def _selected_layers(n_layers: int, most: int = UNIT_LAYERS) -> list[int]:
    if n_layers <= most:
        return list(range(n_layers))
    return sorted({int(x) for x in np.round(np.linspace(0, n_layers - 1, most))})


def unit_signatures(matrices: Mapping[str, np.ndarray], probe_ids: Mapping[str, int]):
    """Per-unit signatures of the MLPs, invariant to permutations (and, with the norm folded in,
    rotations) of the residual basis and equivariant to permutations of the hidden units.

    For hidden unit ``i`` of a layer, with ``E`` the embedding rows of the probe tokens
    (:data:`PROBE_STRINGS` found in ``probe_ids``, ``k x d``) and ``g`` the weight of the norm
    the MLP reads through: ``E diag(g) u_i`` for each input projection ``u_i`` (up, gate) and
    ``E d_i`` for its output column ``d_i`` (down). A residual permutation ``P`` maps ``E`` to
    ``E P``, ``g`` to ``P^T g``, ``u_i`` to ``P^T u_i`` and ``d_i`` to ``P^T d_i``: the products
    do not change; a reordering of the units reorders the signatures. Each part is centred over
    the units and scaled to unit mean square, so the parts weigh alike.

    Returns
    -------
    (units, parts, probes) or None
        ``units``: layer -> ndarray (n_units, n_parts, k) float16 for up to :data:`UNIT_LAYERS`
        evenly spaced layers; ``parts``: e.g. ``("up", "gate", "down")``; ``probes``: the probe
        strings, in column order. None when there is no embedding, no recognised MLP, or fewer
        than :data:`MIN_PROBES` probe tokens.
    """
    emb_name = next((n for n in matrices if EMBEDDING_ROLE.search(n)), None)
    if emb_name is None:
        return None
    E_all = np.asarray(matrices[emb_name])
    if E_all.ndim != 2:
        return None
    probes = [s for s in PROBE_STRINGS if s in probe_ids and 0 <= int(probe_ids[s]) < E_all.shape[0]]
    if len(probes) < MIN_PROBES:
        return None
    E = E_all[[int(probe_ids[s]) for s in probes]].astype(np.float64)
    d = E.shape[1]
    del E_all
    by_layer: dict[int, dict[str, str]] = {}
    for name in matrices:
        role, layer = tensor_role(name)
        if layer is not None:
            by_layer.setdefault(layer, {})[name] = role
    if not by_layer:
        return None
    layers = _selected_layers(max(by_layer) + 1)
    out: dict[int, np.ndarray] = {}
    parts_seen: tuple | None = None
    for layer in layers:
        names = by_layer.get(layer, {})
        norm = next((n for n in names if n.endswith(_MLP_NORM)), None)
        g = np.asarray(matrices[norm], dtype=np.float64).reshape(-1) if norm is not None else np.ones(d)
        if g.shape != (d,):
            g = np.ones(d)
        X_in = E * g[None, :]
        sigs, parts = [], []
        for part, suffix, layout, side in _MLP_PARTS:
            name = next((n for n in names if n.endswith(suffix)), None)
            if name is None or part in parts:
                continue
            W = np.asarray(matrices[name], dtype=np.float64)
            X = X_in if side == "in" else E
            # a (n_units, k) block: nn.Linear is (out, in), GPT-2's Conv1D (in, out)
            if side == "in":
                S = (W @ X.T) if layout == "linear" and W.shape[1] == d else (X @ W).T if W.shape[0] == d else None
            else:
                S = (X @ W).T if layout == "linear" and W.shape[0] == d else (W @ X.T) if W.shape[1] == d else None
            if S is None:
                continue
            sigs.append(_whiten(S))
            parts.append(part)
        if not sigs or len({s.shape[0] for s in sigs}) != 1:
            continue
        if parts_seen is None:
            parts_seen = tuple(parts)
        if tuple(parts) != parts_seen:
            continue
        out[layer] = np.stack(sigs, axis=1).astype(np.float16)  # half the memory; cosines need no more
    if not out:
        return None
    width = out[min(out)].shape[0]  # one width for the stored layers (layers pruned to another width are left out)
    return {i: v for i, v in out.items() if v.shape[0] == width}, parts_seen, tuple(probes)


def _whiten(S: np.ndarray, shrink: float = WHITEN_SHRINK) -> np.ndarray:
    """Units' signatures centred and whitened over the probe directions (a shrunk covariance).

    How well two layers' units can be matched depends on how anisotropic each layer's cloud of
    signatures is; that varies from layer to layer and would make the corresponding layers'
    matching differ from the null's for reasons other than heritage. Whitened, every layer's
    cloud is (nearly) isotropic. A permutation of the units does not change the covariance, so a
    permuted copy is whitened by the same map as its source.
    """
    S = S - S.mean(axis=0, keepdims=True)
    C = S.T @ S / max(S.shape[0], 1)
    tr = float(np.trace(C)) / C.shape[0]
    if tr <= 0:
        return S
    vals, vecs = np.linalg.eigh((1 - shrink) * C + shrink * tr * np.eye(C.shape[0]))
    return S @ (vecs / np.sqrt(np.maximum(vals, 1e-12 * tr))) @ vecs.T


@dataclass(frozen=True)
class MatchedTest:
    """The matched (permutation-invariant) test of two profiles' MLP units."""

    p_value: float
    z: float
    cosine: float  # mean matched cosine over corresponding layers
    n_layers: int
    n_units: int
    layer_map: tuple[int, ...] | None = None


def _unit_matrix(prof: WeightProfile, layer: int, cols: list[int]) -> np.ndarray:
    S = prof.units[layer][:, :, cols].astype(np.float64).reshape(prof.units[layer].shape[0], -1)
    n = np.linalg.norm(S, axis=1, keepdims=True)
    return S / np.where(n > 0, n, 1.0)


def _matched_cosines(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosines of the optimal one-to-one matching of A's rows (units) to B's rows."""
    C = A @ B.T
    r, c = optimize.linear_sum_assignment(C, maximize=True)
    return C[r, c]


def matched_test(a: WeightProfile, b: WeightProfile) -> MatchedTest | None:
    """Match the MLP units of corresponding layers, then test the matched cosines against the
    same matching between non-corresponding layers (the within-pair null); see the module
    docstring. None when the test does not apply (no signatures, other MLP parts, fewer than
    :data:`MIN_PROBES` shared probe tokens, or a single layer, which leaves no null)."""
    if not a.units or not b.units or tuple(a.unit_parts) != tuple(b.unit_parts):
        return None
    shared = [s for s in a.unit_probes if s in set(b.unit_probes)]
    if len(shared) < MIN_PROBES:
        return None
    ia = [list(a.unit_probes).index(s) for s in shared]
    ib = [list(b.unit_probes).index(s) for s in shared]
    la, lb = sorted(a.units), sorted(b.units)
    if len(la) < 2 or len(lb) < 2:
        return None
    ha = next(iter(a.units.values())).shape[0]
    hb = next(iter(b.units.values())).shape[0]
    # the narrower model's units (a fixed subset) are matched into the wider one's: width pruning
    # keeps a subset of the units, so each kept unit has its original in the wider model
    a_rows = ha <= hb
    m = min(MATCH_UNITS, ha if a_rows else hb)
    A = {i: _unit_matrix(a, i, ia) for i in la}
    B = {j: _unit_matrix(b, j, ib) for j in lb}
    M = np.zeros((len(la), len(lb)))
    unit_cos: dict[tuple[int, int], np.ndarray] = {}
    for x, i in enumerate(la):
        for y, j in enumerate(lb):
            c = _matched_cosines(A[i][:m], B[j]) if a_rows else _matched_cosines(B[j][:m], A[i])
            unit_cos[(x, y)] = c
            M[x, y] = float(np.mean(c))
    layer_map = None
    if la == lb:
        pairing = list(range(len(la))), list(range(len(lb)))
        n_cand = 1
    else:
        small_is_a = len(la) <= len(lb)
        S = M if small_is_a else M.T
        idx = _monotone_match(S) if S.shape[0] < S.shape[1] else list(range(S.shape[0]))
        pairing = (list(range(S.shape[0])), idx) if small_is_a else (idx, list(range(S.shape[0])))
        n_cand = max(S.shape)
        layer_map = tuple(idx)
    mask = np.ones_like(M, dtype=bool)
    mask[pairing[0], pairing[1]] = False
    null = M[mask]
    if null.size == 0:
        return None
    # spread of a layer mean under the null: estimated from the null's layer means, never below
    # what the units' own spread allows for a mean of m units (a floor that matters when few
    # layers give few null means), and widened for the estimated centre (sqrt(1 + 1/n))
    unit_null = np.concatenate([unit_cos[k] for k in zip(*np.nonzero(mask))])
    floor = float(np.std(unit_null)) / np.sqrt(m)
    sd = max(float(np.std(null, ddof=1)) if null.size >= 2 else 0.0, floor, 1e-12) * np.sqrt(1 + 1 / null.size)
    stat = M[pairing[0], pairing[1]]
    z_each = (stat - float(np.mean(null))) / sd
    if n_cand > 1:  # the pairing took a maximum over the deeper model's layers: Bonferroni
        p_each = np.minimum(1.0, n_cand * stats.norm.sf(z_each))
        z_each = stats.norm.isf(np.clip(p_each, P_FLOOR, 1.0))
    z = float(np.sum(z_each) / np.sqrt(len(z_each)))
    return MatchedTest(p_value=float(max(stats.norm.sf(z), P_FLOOR)), z=z, cosine=float(np.mean(stat)),
                       n_layers=len(stat), n_units=m, layer_map=layer_map)


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
        Always the direct test's (matrices as stored); the matched test's is ``matched_cosine``.
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
    p_direct: float | None = None
    p_matched: float | None = None
    matched: bool = False
    matched_cosine: float | None = None

    @property
    def related(self) -> bool:  # at the default strictness; callers compare p_value with their fpr
        return self.applicable and self.p_value <= 0.01

    def permuted(self, fpr: float = 0.01) -> bool:
        """The matched test relates the pair and the direct one does not: the units (or the
        residual basis) were reordered."""
        return (self.matched and self.p_matched is not None and self.p_matched <= fpr / 2
                and (self.p_direct is None or self.p_direct > fpr))


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
    """Compare two models' weights (see the module docstring for the tests).

    The direct test compares matrices as stored; when both profiles hold unit signatures, the
    matched test (:func:`matched_test`) is the second of two tests and the p-value is
    ``min(1, 2 min(p_direct, p_matched))`` (Bonferroni over the two). The matched test is not
    run when the direct p-value is already at or below :data:`MATCH_SKIP_P` (its p-value is then
    taken as 1, which only makes the reported ``2 p_direct`` conservative), nor for profiles
    without signatures (then the direct p-value stands alone, as before signatures existed).
    """
    direct = _compare_direct(a, b)
    if not (direct.applicable and a.units and b.units):
        return direct
    mt = matched_test(a, b) if direct.p_value > MATCH_SKIP_P else None
    if mt is None:
        return replace(direct, p_value=min(1.0, 2 * direct.p_value), p_direct=direct.p_value)
    p = float(max(min(1.0, 2 * min(direct.p_value, mt.p_value)), P_FLOOR))
    won = mt.p_value < direct.p_value
    # a pair the matched test relates is as far apart as its matched units: sqrt(2 (1 - cos))
    dist = float(np.sqrt(max(0.0, 2.0 * (1.0 - mt.cosine)))) if won else direct.distance
    return replace(direct, p_value=p, z=float(stats.norm.isf(p)) if p < 1 else 0.0,
                   distance=dist, cosine=direct.cosine,
                   layer_map=mt.layer_map if won and mt.layer_map is not None else direct.layer_map,
                   p_direct=direct.p_value, p_matched=mt.p_value, matched=won, matched_cosine=mt.cosine)


def _compare_direct(a: WeightProfile, b: WeightProfile) -> WeightComparison:
    """The direct test: matrices of one role and shape, as stored."""
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
    # The spread is estimated from the pair's own off-diagonal cosines, which are few in a
    # shallow model (2 per role at 2 layers, and they share layers, so they are not
    # independent): the plain estimate then understates the null's spread and the test is
    # anti-conservative (on 200 independent 2-layer pairs, 12 at p <= 0.01; 7 of 200 at 3
    # layers). So the spread used is the one-sided 95% upper confidence bound of a normal
    # sample's standard deviation, sd * sqrt((n - 1) / chi2_{0.05, n-1}), times
    # sqrt(1 + 1/n) for the estimated mean (a prediction bound, as the matched test uses):
    # about 1.0x at hundreds of null cosines (SmolLM2's 30 layers), 1.6x at a dozen.
    floor = 1.0 / np.sqrt(SKETCH_RANK * min(SKETCH_ROWS, min(s[0] for s in a.shapes.values())))
    n_null = len(null)
    if n_null >= 10:
        upper = np.sqrt((n_null - 1) / stats.chi2.ppf(0.05, n_null - 1)) * np.sqrt(1 + 1 / n_null)
        sd = max(float(np.std(null, ddof=1)) * upper, floor)
        mu = float(np.mean(null))
    else:
        sd, mu = floor, 0.0
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
