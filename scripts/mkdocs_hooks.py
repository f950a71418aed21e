"""MkDocs hook: render the Sphinx roles used in engagestats docstrings.

The docstrings follow numpydoc and use Sphinx roles (``:func:`score```,
``:class:`~engagestats.errors.ModelSpecError```, ``:math:`x_{ti}```), which
Markdown renders as literal text followed by inline code. After mkdocstrings has
rendered an API page this hook turns

* ``:math:`...``` into MathJax inline math (``pymdownx.arithmatex`` markup), and
* ``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:mod:``, ``:exc:``, ``:data:``,
  ``:obj:`` references into optional cross-references, resolved by
  mkdocs-autorefs against the module of the page, then the top level
  (``engagestats.<name>``; a full path falls back to its last part at the top
  level); a reference that resolves nowhere stays plain code,
  without a warning.

Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

_MATH = re.compile(r":math:<code>(?P<tex>.*?)</code>", flags=re.S)
_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|attr|mod|exc|data|obj):<code>(?P<target>[~.\w]+?)(?:\(\))?</code>"
)


def _page_module(src_uri: str) -> str:
    """``api/io.md`` -> ``engagestats.io``; ``api/engagestats.md`` -> ``engagestats``."""
    stem = src_uri.removeprefix("api/").removesuffix(".md")
    return "engagestats" if stem == "engagestats" else f"engagestats.{stem}"


def _reference(match: re.Match[str], module: str) -> str:
    target = match["target"]
    short = target.startswith("~")
    target = target.lstrip("~").lstrip(".")
    title = target.rsplit(".", 1)[-1] if short else target
    if target.startswith("engagestats"):
        # e.g. engagestats.errors.ModelSpecError, documented as engagestats.ModelSpecError
        identifier, fallback = target, "engagestats." + target.rsplit(".", 1)[-1]
    else:
        identifier, fallback = f"{module}.{target}", f"engagestats.{target}"
    return (
        f'<autoref optional identifier="{_html.escape(identifier)}" '
        f'slug="{_html.escape(fallback)}"><code>{title}</code></autoref>'
    )


def rewrite(content: str, module: str) -> str:
    """Rewrite the Sphinx roles of one rendered page (see the module docstring)."""
    content = _MATH.sub(lambda m: f'<span class="arithmatex">\\({m["tex"]}\\)</span>', content)
    return _ROLE.sub(lambda m: _reference(m, module), content)


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    """Rewrite Sphinx roles on the API reference pages."""
    src_uri = page.file.src_uri
    if not src_uri.startswith("api/"):
        return html
    return rewrite(html, _page_module(src_uri))
