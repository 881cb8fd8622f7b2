"""Every relative link of the project's documentation leads to something in the
repository: a reader who clones it finds every page, file and heading the docs point at.

Checked: README.md, docs/**/*.md and dbt_project/README.md. A link must resolve to an
existing file or folder inside the repository (a path that climbs out of it fails even when
it exists on this machine); a `#fragment` must name a heading of the target page.
External links (`http:`, `https:`, `mailto:`, …) are not followed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# [text](target "title") and ![alt](target); the text may hold one level of brackets.
INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
)
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)


def doc_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "dbt_project" / "README.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    return [f for f in files if f.exists()]


def _prose(text: str) -> str:
    """The text without code blocks and code spans: links are not links there."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    prose = _prose(text)
    found = [m.group(1) for m in INLINE.finditer(prose)]
    found += [m.group(1) for m in REFERENCE.finditer(prose)]
    return [t[1:-1] if t.startswith("<") else t for t in found]


def anchors(text: str) -> set[str]:
    """GitHub's ids of the headings of a page: lower case, punctuation dropped (except
    `-` and `_`), spaces as dashes; a repeated id gets `-1`, `-2`, …"""
    seen: dict[str, int] = {}
    ids = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))  # link -> its text
        slug = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """The problems of one page's relative links, each naming the link."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if not target or SCHEME.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        path_part = unquote(path_part.split("?", 1)[0])
        if path_part.startswith("/"):
            resolved = (root / path_part.lstrip("/")).resolve()
        elif path_part:
            resolved = (page.parent / path_part).resolve()
        else:
            resolved = page.resolve()
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file or folder")
        elif fragment and not _has_heading(resolved, unquote(fragment)):
            problems.append(f"{target}: no heading #{fragment} in {resolved.name}")
    return problems


def _has_heading(page: Path, fragment: str) -> bool:
    """Only Markdown pages are searched for headings; any fragment of another file passes."""
    if page.suffix != ".md" or not page.is_file():
        return True
    return fragment.lower() in anchors(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page):
    assert broken_links(page) == []


def test_the_checker_finds_each_kind_of_broken_link(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## A `code` part\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/other.md) [ok anchor](docs/other.md#a-code-part) [ok folder](docs/)\n"
        "[external](https://example.com/x) [mail](mailto:a@b.c) [self](#title)\n"
        "# Title\n"
        "[gone](docs/missing.md) [out](../shared/contracts/raw.md)\n"
        "![image](docs/nope.png) [bad anchor](docs/other.md#nowhere)\n"
        "[ref]: docs/also-missing.md\n"
        "```\n[in a code block](not/checked.md)\n```\n"
        "`[in a code span](not/checked.md)`\n"
    )
    assert broken_links(page, tmp_path) == [
        "docs/missing.md: no such file or folder",
        "../shared/contracts/raw.md: outside the repository",
        "docs/nope.png: no such file or folder",
        "docs/other.md#nowhere: no heading #nowhere in other.md",
        "docs/also-missing.md: no such file or folder",
    ]
