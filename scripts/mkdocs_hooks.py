"""MkDocs hook: Sphinx roles of the docstrings, and math rendered to MathML at build time.

The docstrings follow numpydoc and use Sphinx roles (``:func:`score```,
``:class:`~engagestats.errors.ModelSpecError```, ``:math:`x_{ti}```), which
Markdown renders as literal text followed by inline code. After mkdocstrings has
rendered an API page this hook turns

* ``:math:`...``` into inline math, and
* ``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:mod:``, ``:exc:``, ``:data:``,
  ``:obj:`` references into optional cross-references, resolved by
  mkdocs-autorefs against the module of the page, then the top level
  (``engagestats.<name>``; a full path falls back to its last part at the top
  level); a reference that resolves nowhere stays plain code,
  without a warning.

Math is rendered once, when the site is built, so the pages need no script and no
network to show it (issue 16). On every page

* the output of ``pymdownx.arithmatex`` (generic mode: ``<span class="arithmatex">\\(...\\)``
  and ``<div class="arithmatex">\\[...\\]``), which covers ``$...$``, ``$$...$$``,
  ``\\(...\\)`` and ``\\[...\\]`` in the Markdown pages and the docstrings, and
* ``$...$`` / ``$$...$$`` in the Markdown cells of the notebooks (mkdocs-jupyter leaves
  them as text)

become MathML (``<math>``) through latex2mathml. TeX that latex2mathml cannot convert
is logged as a warning, so ``mkdocs build --strict`` fails on it instead of showing raw TeX.

Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import html as _html
import logging
import re
from typing import Any

from latex2mathml.converter import convert as _latex_to_mathml

log = logging.getLogger("mkdocs.hooks.engagestats")

_MATH = re.compile(r":math:<code>(?P<tex>.*?)</code>", flags=re.S)
_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|attr|mod|exc|data|obj):<code>(?P<target>[~.\w]+?)(?:\(\))?</code>"
)
# pymdownx.arithmatex, generic mode.
_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*'
    r"(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])"
    r"\s*</(?P=tag)>",
    flags=re.S,
)
# A rendered Markdown cell of a notebook (nbconvert's lab template); cells hold no <div>.
_NOTEBOOK_MARKDOWN = re.compile(
    r'(?P<open><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)'
    r"(?P<body>.*?)(?P<close></div>)",
    flags=re.S,
)
# $$...$$, or $...$ within one paragraph (a line break is allowed, a blank line is not).
_DOLLARS = re.compile(
    r"\$\$(?P<block>.+?)\$\$|(?<![\\$])\$(?P<inline>(?:[^$\n]|\n(?!\s*\n))+?)(?<!\\)\$", re.S
)
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", flags=re.S)
# Text that does not hold math: code, scripts, styles, MathML annotations, tags.
_NOT_PROSE = re.compile(
    r"<(script|style|pre|code|annotation|textarea)\b.*?</\1>|<[^>]+>", flags=re.S | re.I
)
# TeX left in the prose after rendering: a delimiter or a command with an argument/sub/superscript.
_RAW_TEX = re.compile(r"\\[(\[]|\$\$|\\[A-Za-z]+(?=[\s{_^,]|$)")
# CDN scripts that a page must not load (tested in tests/test_docs.py).
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//", flags=re.I)


# TeX that latex2mathml does not know, spelled in TeX it does: \arg, and the aligned
# environment (whose "&" it would print as a letter; align* gives the same table).
_SPELLINGS = [
    (re.compile(r"\\arg(?![A-Za-z])"), r"\\operatorname{arg}"),
    (re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),
]
# What latex2mathml passed through unconverted: a TeX command, or an alignment "&", as text.
_LEFTOVER = re.compile(r">[^<]*(\\[A-Za-z]+|&(?!#x[0-9A-Fa-f]+;|[A-Za-z]+;))[^<]*<")


class MathError(ValueError):
    """TeX that latex2mathml cannot convert."""


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """MathML for one TeX formula (``tex`` as written, HTML entities already decoded).

    Raises
    ------
    MathError
        If latex2mathml cannot convert ``tex``.
    """
    tex = tex.strip()
    try:
        spelled = tex
        for pattern, replacement in _SPELLINGS:
            spelled = pattern.sub(replacement, spelled)
        mathml = _latex_to_mathml(spelled, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises assorted exception types
        raise MathError(f"cannot render {tex!r} as MathML: {type(exc).__name__} {exc}") from exc
    leftover = _LEFTOVER.search(mathml)
    if leftover:
        raise MathError(f"cannot render {tex!r} as MathML: {leftover[1]} is not supported")
    # The TeX as an annotation keeps it copyable and searchable.
    annotation = f'<annotation encoding="application/x-tex">{_html.escape(tex)}</annotation>'
    return re.sub(
        r"^(<math\b[^>]*>)(.*)</math>$",
        lambda m: f"{m[1]}<semantics><mrow>{m[2]}</mrow>{annotation}</semantics></math>",
        mathml,
        flags=re.S,
    )


def _render(tex: str, display: bool, where: str, *, tag: str = "div") -> str | None:
    """MathML, a display formula wrapped in ``tag`` (a span inside a paragraph); None on error."""
    try:
        mathml = tex_to_mathml(_html.unescape(tex), display=display)
    except MathError as exc:
        log.warning("%s: %s", where, exc)
        return None
    return f'<{tag} class="math-display">{mathml}</{tag}>' if display else mathml


def render_math(content: str, *, where: str = "page") -> str:
    """Replace arithmatex's math markup in ``content`` by MathML."""

    def one(m: re.Match[str]) -> str:
        display = m["block"] is not None
        out = _render(m["block"] if display else m["inline"], display, where)
        return m[0] if out is None else out

    return _ARITHMATEX.sub(one, content)


def _dollar_math(body: str, where: str) -> str:
    def one(m: re.Match[str]) -> str:
        display = m["block"] is not None
        out = _render(m["block"] if display else m["inline"], display, where, tag="span")
        return m[0] if out is None else out

    # Code spans and blocks keep their dollars.
    parts = _CODE.split(body)
    return "".join(p if i % 2 else _DOLLARS.sub(one, p) for i, p in enumerate(parts))


def render_notebook_math(content: str, *, where: str = "notebook") -> str:
    """Replace ``$...$`` and ``$$...$$`` in the Markdown cells of a rendered notebook."""
    return _NOTEBOOK_MARKDOWN.sub(
        lambda m: m["open"] + _dollar_math(m["body"], where) + m["close"], content
    )


def raw_tex(content: str, *, notebook: bool = False) -> list[str]:
    """Snippets of TeX left unrendered in the prose of a rendered page (empty if none).

    On a notebook page only the Markdown cells are prose; code cells and outputs are not.
    """
    if notebook:
        content = "".join(m["body"] for m in _NOTEBOOK_MARKDOWN.finditer(content))
    text = _NOT_PROSE.sub(" ", content)
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in _RAW_TEX.finditer(text)]


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
    """Rewrite Sphinx roles on the API reference pages; render the math of every page."""
    src_uri = page.file.src_uri
    if src_uri.startswith("api/"):
        html = rewrite(html, _page_module(src_uri))
    notebook = src_uri.endswith(".ipynb")
    if notebook:
        html = render_notebook_math(html, where=src_uri)
    html = render_math(html, where=src_uri)
    for snippet in raw_tex(html, notebook=notebook)[:3]:
        log.warning(
            "%s: TeX left unrendered (a formula without its delimiters?): %r", src_uri, snippet
        )
    return html
