"""Parse lme4-style mixed-model formulas.

A formula such as ``"y ~ x1 * x2 + (1 + time | client) + (1 | therapist)"``
is split into the response, the fixed part (handed to patsy) and the random
terms ``(lhs | group)``. Nested groupings ``(1 | a/b)`` and uncorrelated terms
``(1 + x || g)`` are expanded exactly as lme4's ``findbars`` and
``expandDoubleVerts`` expand them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import patsy

from ..errors import FormulaError

__all__ = ["ParsedFormula", "RandomPart", "parse_formula"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class RandomPart:
    """One random-effects term after expansion.

    Attributes
    ----------
    lhs : str
        patsy formula of the term's model matrix (``"1 + time"``, ``"0 + x"``).
    factors : tuple of str
        Columns whose interaction is the grouping factor, innermost first
        (``("client", "therapist")`` for lme4's ``client:therapist``).
    """

    lhs: str
    factors: tuple[str, ...]

    @property
    def group(self) -> str:
        """lme4 name of the grouping factor, e.g. ``"client:therapist"``."""
        return ":".join(self.factors)


@dataclass(frozen=True)
class ParsedFormula:
    """A parsed mixed-model formula.

    Attributes
    ----------
    formula : str
        The formula as given.
    response : str
        The left-hand side (a column name or a patsy expression).
    fixed : str
        The fixed part as a patsy right-hand side (``"1"`` when empty).
    random : tuple of RandomPart
        The expanded random terms in formula order (innermost group first for
        nested groupings, as lme4's ``findbars`` lists them).
    """

    formula: str
    response: str
    fixed: str
    random: tuple[RandomPart, ...]


def _fail(formula: str, pos: int, problem: str) -> FormulaError:
    caret = " " * max(pos, 0) + "^"
    return FormulaError(
        f"{problem} in formula {formula!r} at position {pos}:\n  {formula}\n  {caret}"
    )


def _split_top(text: str, sep: str, offset: int, formula: str) -> list[tuple[str, int]]:
    """Split ``text`` at ``sep`` outside parentheses/brackets; keep start offsets."""
    parts: list[tuple[str, int]] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise _fail(formula, offset + i, "unmatched ')'")
        elif depth == 0 and text.startswith(sep, i):
            parts.append((text[start:i], offset + start))
            i += len(sep)
            start = i
            continue
        i += 1
    if depth != 0:
        raise _fail(formula, offset + len(text), "unbalanced parentheses")
    parts.append((text[start:], offset + start))
    return parts


def _strip(chunk: str, pos: int) -> tuple[str, int]:
    lead = len(chunk) - len(chunk.lstrip())
    return chunk.strip(), pos + lead


def _is_wrapped(chunk: str) -> bool:
    """True if ``chunk`` is one parenthesised group ``( ... )``."""
    if not (chunk.startswith("(") and chunk.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(chunk):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(chunk) - 1:
            return False
    return True


def _has_bar(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and ch == "|":
            return True
    return False


def _lhs_terms(lhs: str, formula: str, pos: int) -> tuple[bool, list[str]]:
    """Intercept flag and the non-intercept term names of a random term's left side."""
    try:
        desc = patsy.ModelDesc.from_formula(lhs)
    except patsy.PatsyError as exc:
        raise _fail(formula, pos, f"invalid random-effects expression {lhs!r} ({exc})") from None
    intercept = any(not t.factors for t in desc.rhs_termlist)
    names = [t.name() for t in desc.rhs_termlist if t.factors]
    return intercept, names


def _expand_group(group: str, formula: str, pos: int) -> list[tuple[str, ...]]:
    """``a/b/c`` -> [(c, b, a), (b, a), (a,)]: the lme4 nested expansion, innermost first."""
    pieces = _split_top(group, "/", pos, formula)
    levels: list[tuple[str, ...]] = []
    for piece, ppos in pieces:
        text, tpos = _strip(piece, ppos)
        names = tuple(n.strip() for n in text.split(":"))
        for n in names:
            if not _NAME.match(n):
                raise _fail(
                    formula,
                    tpos,
                    f"grouping factor {text!r} must be column names joined by ':' or '/'",
                )
        levels.append(names)
    out: list[tuple[str, ...]] = []
    acc: tuple[str, ...] = ()
    for names in levels:
        acc = names + acc
        out.append(acc)
    return out[::-1]


def _parse_bar(inner: str, pos: int, formula: str) -> list[RandomPart]:
    double = "||" in inner and _split_top(inner, "||", pos, formula)
    if double and len(double) > 1:
        parts = double
    else:
        parts = _split_top(inner, "|", pos, formula)
    if len(parts) != 2:
        raise _fail(formula, pos, "a random term needs exactly one '|' or '||'")
    (lhs, lpos), (grp, gpos) = _strip(*parts[0]), _strip(*parts[1])
    if not lhs:
        raise _fail(formula, lpos, "empty left side of '|' (write '1' for a random intercept)")
    if not grp:
        raise _fail(formula, gpos, "missing grouping factor after '|'")
    intercept, names = _lhs_terms(lhs, formula, lpos)
    if not intercept and not names:
        raise _fail(formula, lpos, "a random term needs at least one column")
    groups = _expand_group(grp, formula, gpos)
    if double and len(double) > 1:
        lhss = (["1"] if intercept else []) + [f"0 + {n}" for n in names]
    else:
        lhss = [("1 + " if intercept else "0 + ") + " + ".join(names) if names else "1"]
    return [RandomPart(lhs=lh, factors=g) for g in groups for lh in lhss]


def parse_formula(formula: str) -> ParsedFormula:
    """Parse an lme4 formula into response, fixed part and random terms.

    Parameters
    ----------
    formula : str
        For example ``"y ~ x * group + (1 + time | client) + (1 | therapist)"``.

    Returns
    -------
    ParsedFormula
        Response, fixed part (patsy syntax) and the expanded random terms.

    Raises
    ------
    FormulaError
        With the formula, the position and the part that could not be parsed.

    Notes
    -----
    Expansions follow lme4: ``(1 | a/b)`` becomes ``(1 | b:a) + (1 | a)``;
    ``(1 + x || g)`` becomes ``(1 | g) + (0 + x | g)``; ``(x | g)`` has an
    implicit intercept, removed by ``0 +`` or ``-1 +``.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

    Examples
    --------
    >>> p = parse_formula("y ~ time + (1 + time || client) + (1 | therapist/client)")
    >>> p.fixed
    'time'
    >>> [(r.lhs, r.group) for r in p.random]  # doctest: +NORMALIZE_WHITESPACE
    [('1', 'client'), ('0 + time', 'client'), ('1', 'client:therapist'), ('1', 'therapist')]
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string, got {type(formula).__name__}")
    sides = _split_top(formula, "~", 0, formula)
    if len(sides) != 2:
        if len(sides) > 2:
            raise _fail(formula, sides[2][1] - 1, "more than one '~'")
        raise _fail(formula, 0, "missing '~'")
    response = sides[0][0].strip()
    if not response:
        raise _fail(formula, 0, "missing response on the left of '~'")
    fixed: list[str] = []
    random: list[RandomPart] = []
    rhs, offset = sides[1]
    for chunk, cpos in _split_top(rhs, "+", offset, formula):
        text, tpos = _strip(chunk, cpos)
        if not text:
            raise _fail(formula, tpos, "empty term (dangling '+')")
        if _is_wrapped(text) and _has_bar(text[1:-1]):
            random.extend(_parse_bar(text[1:-1], tpos + 1, formula))
        elif "|" in text:
            raise _fail(
                formula, tpos, f"random term {text!r} must be '(lhs | group)' added with '+'"
            )
        else:
            fixed.append(text)
    if not random:
        raise _fail(formula, len(formula), "no random-effects term such as '(1 | group)'")
    fixed_text = " + ".join(fixed) if fixed else "1"
    try:
        patsy.ModelDesc.from_formula(fixed_text)
    except patsy.PatsyError as exc:
        raise _fail(formula, offset, f"invalid fixed part {fixed_text!r} ({exc})") from None
    return ParsedFormula(formula=formula, response=response, fixed=fixed_text, random=tuple(random))
