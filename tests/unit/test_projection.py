"""The shared projection and the embeddings -> DNA math (pure numpy)."""

import numpy as np
import pytest

from lineage.core.measure.dna_math import concat_rows, dna_from_embeddings, empty_mask, is_degenerate, reduce_rows
from lineage.core.measure.projection import projection_matrix


def test_projection_is_the_reference_construction():
    # independent construction, spelled out as the paper's code does it (global-seed form)
    state = np.random.get_state()
    try:
        np.random.seed(42)
        r = np.random.randn(640, 128).astype(np.float32)
    finally:
        np.random.set_state(state)
    r = r / np.linalg.norm(r, axis=0)
    got = projection_matrix(640, 128, 42)
    assert got.dtype == np.float32 and got.shape == (640, 128)
    assert np.array_equal(got, r)
    assert np.allclose(np.linalg.norm(got, axis=0), 1.0, atol=1e-6)
    assert not got.flags.writeable


def test_projection_equals_llm_dna_matrix():
    tde = pytest.importorskip("llm_dna.dna.TextDNAExtractor")
    ref = tde.TextDNAExtractor(dna_dim=128, random_seed=7, encoder_name="all-MiniLM-L6-v2")
    for shape in [(384, 64), (64 * 20, 128), (38400, 128)]:
        assert np.array_equal(projection_matrix(*shape, seed=7), ref._get_or_create_projection_matrix(*shape))


def test_projection_depends_on_seed_and_shape_and_leaves_global_rng_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a, b = projection_matrix(50, 8, 1), projection_matrix(50, 8, 2)
    assert not np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], before)
    # (50, 8) and (50, 9) share the first draws row by row only if the layout allowed it: it does not
    assert not np.array_equal(projection_matrix(50, 9, 1)[:, :8], a)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_projection_rejects_bad_dims(bad):
    with pytest.raises(ValueError):
        projection_matrix(bad, 4)


def _embeddings(n=12, d=384, seed=0, empty=(3, 7)):
    e = np.random.RandomState(seed).randn(n, d).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    e[list(empty)] = 0.0
    return e


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("encoder_name,mode,d", [("all-MiniLM-L6-v2", "projection", 384),
                                                 ("Qwen/Qwen3-Embedding-8B", "prefix", 256)])
def test_dna_matches_llm_dna_bit_for_bit(normalize, encoder_name, mode, d):
    tde = pytest.importorskip("llm_dna.dna.TextDNAExtractor")
    e = _embeddings(d=d)
    ref = tde.TextDNAExtractor(dna_dim=128, pre_agg_embed_dim=64, normalize_embeddings=normalize,
                               random_seed=42, encoder_name=encoder_name).reduce_embeddings(e)
    ours = dna_from_embeddings(e, mode=mode, row_dim=64, dna_dim=128, seed=42, normalize=normalize)
    assert ours.dtype == np.float32 and ours.shape == (128,)
    assert np.array_equal(ours, ref)


def test_zero_rows_keep_their_slot():
    e = _embeddings(empty=())
    a, b = e.copy(), e.copy()
    a[3] = 0
    b[4] = 0
    rows = reduce_rows(a, mode="projection", row_dim=64, seed=42)
    assert np.all(rows[3] == 0) and np.allclose(np.linalg.norm(rows[[0, 4]], axis=1), 1.0, atol=1e-6)
    assert concat_rows(rows).shape == (12 * 64,)
    assert np.array_equal(concat_rows(rows)[3 * 64:4 * 64], np.zeros(64, np.float32))
    da = dna_from_embeddings(a, mode="projection")
    db = dna_from_embeddings(b, mode="projection")
    assert not np.allclose(da, db)


def test_concatenation_not_mean():
    # swapping two answers must change the DNA (a mean would not notice)
    e = _embeddings(empty=())
    swapped = e[[1, 0] + list(range(2, 12))]
    assert not np.allclose(dna_from_embeddings(e, mode="projection"), dna_from_embeddings(swapped, mode="projection"))


def test_prefix_mode_keeps_leading_coordinates():
    e = _embeddings(d=256, empty=())
    rows = reduce_rows(e, mode="prefix", row_dim=64, normalize=False)
    assert np.array_equal(rows, e[:, :64])


def test_empty_mask_and_degenerate():
    assert empty_mask(["a", "", "  \n", "b"]).tolist() == [False, True, True, False]
    assert is_degenerate(6, 10) and not is_degenerate(5, 10)
