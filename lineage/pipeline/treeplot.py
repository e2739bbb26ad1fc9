"""Draw a tree (rectangular phylogram) as PNG and SVG, leaves coloured by family.

Leaf labels are drawn up to ``max_labels`` leaves (300 by default); the figure
grows 0.16 inch per leaf so labels never overlap. Beyond that only the coloured
tips are drawn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from lineage.core.infer.tree import Tree

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _layout(tree: Tree) -> tuple[dict[str, float], dict[str, float]]:
    x = tree.root_to_tip()
    y: dict[str, float] = {}
    order = tree.preorder()
    row = 0
    for v in order:
        if not tree.children[v]:
            y[v] = float(row)
            row += 1
    for v in reversed(order):
        ch = tree.children[v]
        if ch:
            ys = [y[c] for c, _ in ch]
            y[v] = (min(ys) + max(ys)) / 2.0
    return x, y


def plot_tree(
    tree: Tree,
    out_stem: str | Path,
    *,
    families: Mapping[str, str | None] | None = None,
    title: str | None = None,
    max_labels: int = 300,
) -> list[Path]:
    """Write ``<out_stem>.png`` and ``<out_stem>.svg``.

    Parameters
    ----------
    tree : Tree
    out_stem : path without suffix
    families : mapping of leaf id to family, optional
        Leaves are coloured by family (grey when unknown).
    title : str, optional
    max_labels : int
        Leaf labels are drawn when the tree has at most this many leaves.

    Returns
    -------
    list of Path
        The PNG and SVG paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    families = families or {}
    x, y = _layout(tree)
    leaves = [v for v in tree.preorder() if not tree.children[v]]
    n = len(leaves)
    labels = n <= max_labels
    fams = sorted({f for f in (families.get(v) for v in leaves) if f})
    cmap = plt.get_cmap("tab20" if len(fams) > 10 else "tab10")
    colour = {f: cmap(i % cmap.N) for i, f in enumerate(fams)}
    grey = (0.55, 0.55, 0.55, 1.0)

    segs = []
    for p, c, _ in tree.edges:
        segs.append([(x[p], y[c]), (x[c], y[c])])  # horizontal: the branch
    for v in tree.nodes:
        ch = tree.children[v]
        if ch:
            ys = [y[c] for c, _ in ch]
            segs.append([(x[v], min(ys)), (x[v], max(ys))])  # vertical: the fork
    height = max(3.0, 0.16 * n) if labels else 12.0
    xmax = max(x.values()) or 1.0
    fig, ax = plt.subplots(figsize=(10 if labels else 12, height))
    ax.add_collection(LineCollection(segs, colors="0.25", linewidths=0.8))
    ax.scatter([x[v] for v in leaves], [y[v] for v in leaves], s=14 if labels else 4,
               c=[colour.get(families.get(v), grey) for v in leaves], zorder=3, linewidths=0)
    if labels:
        fs = 8 if n <= 80 else 6
        for v in leaves:
            # ids are shown as written: no mathtext ($...$), no control characters
            ax.text(x[v] + 0.01 * xmax, y[v], _CONTROL.sub("", v), va="center", fontsize=fs,
                    color=colour.get(families.get(v), "0.2"), parse_math=False)
    ax.set_xlim(-0.02 * xmax, xmax * (1.45 if labels else 1.05))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("DNA distance from the root")
    if title:
        ax.set_title(title)
    if fams:
        shown = fams[:20]
        handles = [Line2D([], [], marker="o", ls="", color=colour[f], label=f) for f in shown]
        if len(fams) > 20:
            handles.append(Line2D([], [], ls="", label=f"... {len(fams) - 20} more"))
        ax.legend(handles=handles, title="family", loc="upper right", fontsize=7, frameon=False)
    fig.tight_layout()
    stem = Path(out_stem)
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        plt.close(fig)
        from lineage.errors import CacheError

        raise CacheError(f"cannot create the folder {stem.parent}: {e.strerror or e}",
                         hint="choose another --out folder") from None
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    from lineage.errors import LineageError
    from lineage.io import check_output_path

    try:
        for p in paths:  # never into a device or over a directory
            check_output_path(p)
    except LineageError:
        plt.close(fig)
        raise
    try:
        fig.savefig(paths[0], dpi=110)
        fig.savefig(paths[1])
    except OSError as e:  # disk full, read-only folder, a directory in the way
        from lineage.errors import CacheError

        for p in paths:  # no half-written picture is left behind
            try:
                if p.is_file() and not p.is_symlink():
                    p.unlink()
            except OSError:
                pass
        raise CacheError(f"cannot write the tree picture in {stem.parent}: {e.strerror or e}",
                         hint="free disk space or choose another --out folder") from None
    finally:
        plt.close(fig)
    return paths


def write_tree(
    dna: list[str | Path],
    out: str | Path,
    *,
    method: str = "nj",
    root: str = "midpoint",
    outgroup: str | None = None,
    manifest: str | Path | None = None,
    metric: str = "euclidean",
) -> dict:
    """Load DNA files, build the tree, write ``tree.nwk``, ``tree.png`` and ``tree.svg`` in ``out``.

    Families (for colours) and release dates (for the default outgroup, the oldest
    model) come from ``manifest`` when given, else from each DNA's ``meta``.

    Returns
    -------
    dict
        Summary: paths written, counts, tree length and depth.
    """
    import datetime as dt

    from lineage.core.infer.tree import build_tree
    from lineage.dna.record import stack
    from lineage.dna.files import expand_dna_paths, load_dna
    from lineage.io import atomic_write_text
    from lineage.errors import ConfigError, InputError
    from lineage.manifest import load_manifest

    if method not in ("nj", "upgma"):
        raise ConfigError(f"--method must be nj or upgma, not {method!r}")
    if root not in ("midpoint", "outgroup"):
        raise ConfigError(f"--root must be midpoint or outgroup, not {root!r}")
    if metric not in ("euclidean", "cosine"):
        raise ConfigError(f"--metric must be euclidean or cosine, not {metric!r}")
    dnas = [load_dna(p) for p in expand_dna_paths(dna)]
    if len(dnas) < 3:
        raise InputError(f"need at least 3 DNA files to build a tree, got {len(dnas)}", hint="pass more DNA files")
    ids, X = stack(dnas)
    if len(set(ids)) != len(ids):
        dup = next(m for m in ids if ids.count(m) > 1)
        raise InputError(f"two DNA files hold model {dup!r}", hint="pass each model's DNA once")
    fam = {d.model_id: d.meta.get("family") for d in dnas}
    dates: dict[str, dt.date] = {}
    if manifest is not None:
        for e in load_manifest(manifest).models:
            if e.id in fam:
                fam[e.id] = e.family or fam[e.id]
                if e.release_date:
                    dates[e.id] = e.release_date
    if root == "outgroup" and outgroup is None:
        if not dates:
            raise ConfigError("--root outgroup needs --outgroup ID, or a --manifest with release dates "
                              "(the oldest model is used)")
        outgroup = min((d, m) for m, d in dates.items())[1]
    if outgroup is not None and outgroup not in ids:
        raise ConfigError(f"outgroup {outgroup!r} is not among the DNA files' models")
    tree = build_tree(ids, X, method=method, root=root, outgroup=outgroup, metric=metric)
    out = Path(out)
    nwk = out / "tree.nwk"
    from lineage.io import check_output_path

    for p in (nwk, out / "tree.png", out / "tree.svg"):  # all refused before any is written
        check_output_path(p)
    atomic_write_text(nwk, tree.to_newick() + "\n")
    png, svg = plot_tree(tree, out / "tree", families=fam,
                         title=f"{method.upper()} tree of {len(ids)} models ({root} root)")
    depth = tree.root_to_tip()
    return {
        "models": len(ids),
        "method": method,
        "root": root if outgroup is None else f"outgroup {outgroup}",
        "tree_length": round(sum(e[2] for e in tree.edges), 6),
        "max_root_to_tip": round(max(depth[m] for m in ids), 6),
        "families": len({f for f in fam.values() if f}),
        "newick": str(nwk),
        "png": str(png),
        "svg": str(svg),
    }


save_tree = plot_tree  # the name the ingest calls
