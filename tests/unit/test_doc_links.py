"""Every relative link in README.md and docs/*.md leads somewhere: the file exists and, for
``file.md#anchor`` or ``#anchor``, the heading exists (anchors made the way GitHub makes them).

Links inside code blocks and inline code are not links; web addresses are not checked here
(nothing outside the machine is reached by the suite).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def _outside_code(text: str) -> list[tuple[int, str]]:
    """(line number, line) for the lines outside fenced code blocks."""
    out, fence = [], None
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else (fence or mark)
            continue
        if fence is None:
            out.append((n, line))
    return out


def _links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link outside code (inline code removed first)."""
    return [(n, t) for n, line in _outside_code(text) for t in _LINK.findall(re.sub(r"`[^`]*`", "", line))]


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a markdown file's headings (the heading's text without markup,
    lower case, punctuation dropped, spaces to hyphens, ``-1``, ``-2`` for repeats), plus
    explicit ``<a name/id>`` anchors."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in _outside_code(path.read_text(encoding="utf-8")):
        out |= set(_HTML_ANCHOR.findall(line))
        m = _HEADING.match(line)
        if not m:
            continue
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", m.group(2)).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(path: Path) -> list[str]:
    """``path:line: target (why)`` for every relative link in ``path`` that leads nowhere."""
    problems = []
    for n, target in _links(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{n}: {target}"
        if not dest.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where} (no heading with that anchor in {dest.name})")
    return problems


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_in_readme_and_docs_leads_somewhere():
    docs = _documents()
    assert len(docs) > 3
    problems = [p for d in docs for p in broken_links(d)]
    assert not problems, "\n".join(problems)


def test_the_readme_links_to_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {t.partition("#")[0] for _, t in _links(readme)}
    missing = [f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")) if f"docs/{p.name}" not in linked]
    assert not missing, f"README.md links to no page for {missing} (add it to 'More documentation')"


def test_the_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Graph model: `:Model`\n\n## Same\n\n## Same\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nSee [ok](other.md), [anchor](other.md#other-page), [code](other.md#graph-model-model),\n"
        "[repeat](other.md#same-1), [self](#title), ![img](other.md), [web](https://example.org/x#y).\n"
        "[gone](missing.md) and [no anchor](other.md#nowhere) and [self gone](#nope).\n"
        "```\n[in code](missing-too.md)\n```\n`[inline](missing-three.md)`\n")
    assert broken_links(page) == [
        f"{page}:5: missing.md (no such file)",
        f"{page}:5: other.md#nowhere (no heading with that anchor in other.md)",
        f"{page}:5: #nope (no heading with that anchor in page.md)",
    ]
