"""R expressions of a model formula: parsed with R's precedence, translated for patsy.

The right-hand side of an lme4 formula is R code. patsy evaluates its terms as
Python, where ``^`` is a bitwise XOR and ``&`` binds tighter than ``>``; so each
term is parsed here with R's grammar (operator precedence as in R's
``?Syntax``), checked against the functions :mod:`._rfuns` implements, and
emitted as fully parenthesised Python that patsy evaluates. The same tree is
deparsed the way R's ``deparse`` prints it, which gives the column names R uses
(``I(Days^2)``, ``sin(2 * pi * Time)``, ``exp(-Days/3)``).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import cast

import patsy

from ..errors import FormulaError
from ._rfuns import CONTRASTS, FUNCTIONS

__all__ = [
    "Node",
    "Translation",
    "calls_of",
    "columns_of",
    "deparse",
    "parse_r",
    "to_python",
    "translate",
]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<btick>`[^`]*`)
  | (?P<name>(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.)
  | (?P<op>%[^%]*%|\*\*|<=|>=|==|!=|&&|\|\||[-+*/^()\[\],=<>!&|:~])
    """,
    re.VERBOSE,
)

# Binary operators: (left binding power, right binding power). R's ?Syntax, high to low:
# ^ (right assoc) > unary -+ > : > %any% > * / > + - > comparison > ! > & && > | || > ~
_BINARY = {
    "^": (90, 89),
    ":": (70, 71),
    "%%": (60, 61),
    "*": (50, 51),
    "/": (50, 51),
    "+": (40, 41),
    "-": (40, 41),
    "<": (30, 31),
    ">": (30, 31),
    "<=": (30, 31),
    ">=": (30, 31),
    "==": (30, 31),
    "!=": (30, 31),
    "&": (20, 21),
    "&&": (20, 21),
    "|": (10, 11),
    "||": (10, 11),
}
_UNARY_BP = {"-": 80, "+": 80, "!": 25}
_NO_SPACE = {"^", ":", "/"}  # R's deparse prints these without surrounding spaces
_PY_OP = {"^": "**", "!": "~", "&": "&", "|": "|", "/": "/", "*": "*", "+": "+", "-": "-"}
#: R constants and their Python spelling.
CONSTANTS = {"TRUE": "True", "FALSE": "False", "pi": "R_pi", "T": "True", "F": "False"}


@dataclass(frozen=True)
class Node:
    """One node of an R expression.

    ``kind`` is ``"num"``, ``"str"``, ``"name"``, ``"call"``, ``"unary"``,
    ``"binary"`` or ``"paren"``. ``value`` holds the literal, name, function or
    operator; ``args`` the operands (calls: the arguments), ``names`` the
    argument names of a call (``""`` for positional ones).
    """

    kind: str
    value: str
    args: tuple[Node, ...] = ()
    names: tuple[str, ...] = field(default=())
    quoted: bool = False  # a name written in backticks


def _tokens(text: str, formula: str, offset: int) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _fail(formula, offset + pos, f"unexpected character {text[pos]!r}")
        kind = cast(str, m.lastgroup)  # every alternative of _TOKEN is a named group
        if kind != "ws":
            tok = m.group()
            if kind == "op" and tok == "**":
                tok = "^"  # R's parser reads ** as ^
            out.append((kind, tok, offset + pos))
        pos = m.end()
    return out


def _fail(formula: str, pos: int, problem: str) -> FormulaError:
    caret = " " * max(pos, 0) + "^"
    return FormulaError(
        f"{problem} in formula {formula!r} at position {pos}:\n  {formula}\n  {caret}"
    )


class _Parser:
    def __init__(self, text: str, formula: str, offset: int) -> None:
        self.toks = _tokens(text, formula, offset)
        self.i = 0
        self.formula = formula
        self.end = offset + len(text)

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise _fail(self.formula, self.end, "incomplete expression")
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok[1] != op:
            raise _fail(self.formula, tok[2], f"expected {op!r}, found {tok[1]!r}")

    def expr(self, min_bp: int = 0) -> Node:
        kind, tok, pos = self.take()
        if kind == "num":
            left = Node("num", tok)
        elif kind == "str":
            left = Node("str", tok[1:-1])
        elif kind == "btick":
            left = Node("name", tok[1:-1], quoted=True)
        elif kind == "name":
            left = Node("name", tok)
        elif tok == "(":
            inner = self.expr()
            self.expect(")")
            left = Node("paren", "(", (inner,))
        elif tok in _UNARY_BP:
            left = Node("unary", tok, (self.expr(_UNARY_BP[tok]),))
        else:
            raise _fail(self.formula, pos, f"unexpected {tok!r}")
        while True:
            nxt = self.peek()
            if nxt is None:
                return left
            nkind, ntok, npos = nxt
            if ntok == "(" and left.kind == "name":
                self.take()
                left = self._call(left.value, npos)
                continue
            if ntok == "[":
                raise _fail(self.formula, npos, "indexing with '[' is not supported in a formula")
            key = "%%" if nkind == "op" and ntok.startswith("%") else ntok
            if nkind != "op" or key not in _BINARY:
                return left
            lbp, rbp = _BINARY[key]
            if lbp < min_bp:
                return left
            self.take()
            left = Node("binary", ntok, (left, self.expr(rbp)))

    def _call(self, fname: str, pos: int) -> Node:
        args: list[Node] = []
        names: list[str] = []
        if (first := self.peek()) is not None and first[1] == ")":
            self.take()
            return Node("call", fname)
        while True:
            tok = self.peek()
            nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            if tok and tok[0] in ("name", "btick") and nxt and nxt[1] == "=":
                self.i += 2
                names.append(tok[1].strip("`"))
            else:
                names.append("")
            args.append(self.expr())
            tok = self.take()
            if tok[1] == ")":
                return Node("call", fname, tuple(args), tuple(names))
            if tok[1] != ",":
                raise _fail(self.formula, tok[2], f"expected ',' or ')' in {fname}(...)")


def parse_r(text: str, formula: str, offset: int = 0) -> Node:
    """Parse one R expression (a formula term, or a whole side of a formula).

    Raises
    ------
    FormulaError
        With the formula and the position of the problem.
    """
    p = _Parser(text, formula, offset)
    if not p.toks:
        raise _fail(formula, offset, "empty expression")
    node = p.expr()
    if (rest := p.peek()) is not None:
        raise _fail(formula, rest[2], f"unexpected {rest[1]!r}")
    return node


_SYNTACTIC = re.compile(r"^(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*$")


def _r_name(name: str, quoted: bool) -> str:
    return f"`{name}`" if quoted and not _SYNTACTIC.match(name) else name


def _r_num(tok: str) -> str:
    if tok.endswith("L"):
        return tok
    value = float(tok)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def deparse(node: Node) -> str:
    """The expression as R's ``deparse`` prints it (spaces around most binary operators).

    Examples
    --------
    >>> deparse(parse_r("sin(2*pi*Time)", ""))
    'sin(2 * pi * Time)'
    >>> deparse(parse_r("exp( - Days / 3)", ""))
    'exp(-Days/3)'
    """
    if node.kind == "num":
        return _r_num(node.value)
    if node.kind == "str":
        return '"' + node.value.replace('"', '\\"') + '"'
    if node.kind == "name":
        return _r_name(node.value, node.quoted)
    if node.kind == "paren":
        return "(" + deparse(node.args[0]) + ")"
    if node.kind == "unary":
        return node.value + deparse(node.args[0])
    if node.kind == "binary":
        a, b = (deparse(x) for x in node.args)
        return f"{a}{node.value}{b}" if node.value in _NO_SPACE else f"{a} {node.value} {b}"
    args = ", ".join(
        (f"{n} = " if n else "") + deparse(a) for a, n in zip(node.args, node.names, strict=True)
    )
    return f"{node.value}({args})"


def _py_name(name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("R_"):
        return name
    return f"Q({name!r})"


def to_python(node: Node, functions: dict[str, str]) -> str:
    """Fully parenthesised Python for ``node``; R functions become ``functions[name]``.

    The caller must have checked every call against ``functions`` (see :func:`calls_of`).
    """
    if node.kind == "num":
        return repr(float(node.value.rstrip("L")))
    if node.kind == "str":
        return repr(node.value)
    if node.kind == "name":
        if not node.quoted and node.value in CONSTANTS:
            return CONSTANTS[node.value]
        return _py_name(node.value)
    if node.kind == "paren":
        return to_python(node.args[0], functions)
    if node.kind == "unary":
        return f"({_PY_OP[node.value]}{to_python(node.args[0], functions)})"
    if node.kind == "binary":
        op = node.value
        a, b = (to_python(x, functions) for x in node.args)
        if op in ("&&", "||", ":") or op.startswith("%"):
            raise FormulaError(f"operator {op!r} is not supported inside a term ({deparse(node)})")
        return f"({a} {_PY_OP.get(op, op)} {b})"
    if node.value == "C":
        return _contrast_call(node, functions)
    args = ", ".join(
        (f"{n}=" if n else "") + to_python(a, functions)
        for a, n in zip(node.args, node.names, strict=True)
    )
    return f"{functions[node.value]}({args})"


def columns_of(node: Node) -> set[str]:
    """Names the expression refers to as data columns (constants and argument names excluded)."""
    if node.kind == "name":
        if not node.quoted and node.value in CONSTANTS:
            return set()
        return {node.value}
    out: set[str] = set()
    args = node.args[:1] if node.kind == "call" and node.value == "C" else node.args
    for a in args:
        out |= columns_of(a)
    return out


def calls_of(node: Node) -> list[str]:
    """Functions called in the expression, outermost first."""
    out = [node.value] if node.kind == "call" else []
    for a in node.args:
        out += calls_of(a)
    return out


def _contrast_call(node: Node, functions: dict[str, str]) -> str:
    """``C(f, sum)``: R's contrast setter, with patsy's contrast of the same name."""
    if len(node.args) != 2 or node.args[1].kind != "name" or node.args[1].value not in CONTRASTS:
        raise FormulaError(
            f"C() takes a factor and one of {', '.join(sorted(CONTRASTS))}; got {deparse(node)}"
        )
    return f"C({to_python(node.args[0], functions)}, {CONTRASTS[node.args[1].value]})"


@dataclass
class Translation:
    """An R right-hand side translated for patsy.

    Attributes
    ----------
    patsy : str
        The formula in patsy syntax; every variable is fully parenthesised Python.
    names : dict
        patsy factor name (``EvalFactor(code).name()``) -> R's deparsed name.
    columns : set of str
        Data columns the expression uses.
    """

    patsy: str
    names: dict[str, str] = field(default_factory=dict)
    columns: set[str] = field(default_factory=set)


_FORMULA_OPS = {"+", "-", "*", "/", ":", "^"}


def _check_calls(node: Node, formula: str) -> None:
    for name in calls_of(node):
        if name == "offset":
            raise FormulaError(
                f"offset() must be a term of its own in the formula, not inside "
                f"{deparse(node)!r} ({formula!r})"
            )
        if name not in FUNCTIONS:
            known = ", ".join(sorted(f for f in FUNCTIONS if f not in ("C",)))
            raise FormulaError(
                f"function {name}() in {formula!r} is not supported in a model formula; "
                f"supported: {known}, C(), offset() (a column name cannot be followed by '(')"
            )


def leaf(node: Node, formula: str, out: Translation) -> str:
    """Python code of one variable; records its R name and columns in ``out``."""
    _check_calls(node, formula)
    code = to_python(node, FUNCTIONS)
    if node.kind not in ("name", "call"):
        code = f"I({code})"  # an operator expression is one variable, not formula syntax
    out.names[patsy.EvalFactor(code).name()] = deparse(node)
    out.columns |= columns_of(node)
    return code


def _formula(node: Node, formula: str, out: Translation) -> str:
    if node.kind == "binary" and node.value in _FORMULA_OPS:
        a = _formula(node.args[0], formula, out)
        if node.value == "^":
            b = node.args[1]
            if b.kind != "num":
                raise FormulaError(f"the power in {deparse(node)!r} must be a number ({formula!r})")
            return f"({a}) ** {int(float(b.value))}"
        return f"{a} {node.value} {_formula(node.args[1], formula, out)}"
    if node.kind == "binary" and node.value.startswith("%"):
        raise FormulaError(f"operator {node.value} is not supported in formula {formula!r}")
    if node.kind == "paren":
        return f"({_formula(node.args[0], formula, out)})"
    if node.kind == "unary" and node.value in "+-":
        return f"{node.value}{_formula(node.args[0], formula, out)}"
    if node.kind == "num":
        return _r_num(node.value)
    if node.kind == "name" and node.value == ".":
        raise FormulaError(f"'.' (all other columns) is not supported; name them ({formula!r})")
    return leaf(node, formula, out)


def translate(text: str, formula: str, offset: int = 0) -> Translation:
    """Translate an R formula side (``"Days + I(Days^2)"``) into patsy syntax.

    Examples
    --------
    >>> t = translate("Days + I(Days^2)", "")
    >>> t.patsy
    'Days + I((Days ** 2.0))'
    >>> sorted(t.names.values())
    ['Days', 'I(Days^2)']
    """
    out = Translation("")
    out.patsy = _formula(parse_r(text, formula, offset), formula, out)
    return out
