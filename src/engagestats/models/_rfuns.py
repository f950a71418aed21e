"""R's functions for model formulas, as patsy (stateful) transforms.

``scale()``, ``poly()``, ``factor()`` and ``relevel()`` remember what they learnt
on the fitted rows (centre and scale; poly's ``alpha``/``norm2``; the levels), so
predictions on new data use the same transformation, as R's ``makepredictcall``.

References
----------
R Core Team (2022). R: A language and environment for statistical computing.
``stats::poly``, ``base::scale``, ``base::factor``, ``stats::relevel``.

Kennedy, W. J. & Gentle, J. E. (1980). *Statistical Computing*. Dekker.
(The three-term recurrence of orthogonal polynomials that ``poly`` uses.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy

from ..errors import ModelSpecError

__all__ = ["ENV", "FUNCTIONS", "RPoly", "RScale", "r_level"]


def _num(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "USO" or isinstance(x, pd.Categorical):
        raise ModelSpecError(f"{what} needs a numeric variable, got values such as {arr[:1]!r}")
    return arr.astype(float)


def r_level(value) -> str:
    """A level as R's ``as.character`` prints it (``1`` not ``1.0``, ``TRUE``)."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(value)


def _levels_of(x) -> tuple[list, list[str]]:
    """Values and labels of ``x``'s levels in R's order (a Categorical keeps its order)."""
    if isinstance(x, pd.Series):
        x = x.array if isinstance(x.dtype, pd.CategoricalDtype) else x.to_numpy()
    if isinstance(x, pd.Categorical):
        used = pd.unique(np.asarray(x.codes))
        cats = [c for i, c in enumerate(x.categories) if i in set(used[used >= 0])]
        return cats, [r_level(c) for c in cats]
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ModelSpecError("factor() needs one variable")
    uniq = pd.unique(pd.Series(arr).dropna())
    if arr.dtype.kind in "biuf":
        uniq = sorted(uniq)
    else:
        uniq = sorted(uniq, key=lambda v: (not isinstance(v, str), str(v)))
    return list(uniq), [r_level(v) for v in uniq]


def _labels(x) -> np.ndarray:
    if isinstance(x, pd.Series):
        x = x.array if isinstance(x.dtype, pd.CategoricalDtype) else x.to_numpy()
    if isinstance(x, pd.Categorical):
        out = np.asarray(x.astype(object), dtype=object)
    else:
        out = np.asarray(x, dtype=object)
    return np.array([None if pd.isna(v) else r_level(v) for v in out], dtype=object)


class _Levels:
    """Shared state of factor()/relevel(): the levels seen on the fitted rows."""

    what = "factor"
    #: Set by memorize_finish, which patsy calls before transform.
    levels: list[str]

    def __init__(self) -> None:
        self._chunks: list = []

    def _finish_levels(self, x, **kwargs) -> list[str]:
        return _levels_of(x)[1]

    def memorize_chunk(self, x, **kwargs) -> None:
        self._chunks.append((x, kwargs))

    def memorize_finish(self) -> None:
        x, kwargs = self._chunks[0]
        if len(self._chunks) > 1:
            x = pd.concat([pd.Series(_labels(c)) for c, _ in self._chunks])
        self.levels = self._finish_levels(x, **kwargs)
        self._chunks = []

    def transform(self, x, **kwargs) -> pd.Categorical:
        labels = _labels(x)
        known = set(self.levels)
        new = sorted({v for v in labels if v is not None and v not in known})
        if new:
            raise ModelSpecError(
                f"{self.what}(): value(s) {', '.join(map(repr, new[:5]))} are not levels seen "
                f"in the fitted data ({', '.join(map(repr, self.levels))})"
            )
        return pd.Categorical(labels, categories=self.levels)


class RFactor(_Levels):
    """``factor(x)``: levels sorted (numbers numerically, strings by code point) or kept."""

    def _finish_levels(self, x, **kwargs) -> list[str]:
        if kwargs:
            raise ModelSpecError(
                f"factor(): argument(s) {sorted(kwargs)} are not supported; "
                "order the levels with a pandas Categorical or relevel()"
            )
        return _levels_of(x)[1]


class RRelevel(_Levels):
    """``relevel(x, ref = "b")``: the levels of ``factor(x)`` with ``ref`` moved first."""

    what = "relevel"

    def _finish_levels(self, x, ref=None, **kwargs) -> list[str]:
        if ref is None or kwargs:
            raise ModelSpecError('relevel() needs exactly the argument ref, e.g. ref = "b"')
        levels = _levels_of(x)[1]
        key = r_level(ref)
        if key not in levels:
            raise ModelSpecError(
                f"relevel(): ref = {key!r} is not a level; the levels are "
                f"{', '.join(map(repr, levels))}"
            )
        return [key] + [lv for lv in levels if lv != key]

    def memorize_chunk(self, x, ref=None, **kwargs) -> None:
        super().memorize_chunk(x, ref=ref, **kwargs)

    def transform(self, x, ref=None, **kwargs) -> pd.Categorical:
        return super().transform(x)


class RScale:
    """``scale(x, center = TRUE, scale = TRUE)``: R's n - 1 standard deviation.

    With ``center = FALSE`` and ``scale = TRUE`` R divides by the root mean
    square ``sqrt(sum(x^2) / (n - 1))``; numbers given for ``center`` or
    ``scale`` are used as they are.
    """

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.center = 0.0
        self.scale = 1.0

    def memorize_chunk(self, x, center=True, scale=True) -> None:
        self._chunks.append(_num(x, "scale()"))
        self._args = (center, scale)

    def memorize_finish(self) -> None:
        x = np.concatenate(self._chunks)
        center, scale = self._args
        self._chunks = []
        if isinstance(center, (bool, np.bool_)):
            self.center = float(x.mean()) if center else 0.0
        else:
            self.center = float(center)
        if isinstance(scale, (bool, np.bool_)):
            if scale:
                if len(x) < 2:
                    raise ModelSpecError("scale() needs at least 2 observations")
                self.scale = float(np.sqrt(np.sum((x - self.center) ** 2) / (len(x) - 1)))
            else:
                self.scale = 1.0
        else:
            self.scale = float(scale)
        if not self.scale > 0:
            raise ModelSpecError("scale(): the variable is constant (standard deviation 0)")

    def transform(self, x, center=True, scale=True) -> np.ndarray:
        return (_num(x, "scale()") - self.center) / self.scale


class RPoly:
    """``poly(x, degree = 1, raw = FALSE)``: R's orthogonal polynomials.

    The fitted basis has mean-0, mutually orthogonal columns of unit length
    (``colSums(p^2) = 1``); ``alpha`` and ``norm2`` (R's ``attr(, "coefs")``)
    regenerate it on new data with the three-term recurrence
    ``P[k+1] = (x - alpha[k]) P[k] - (norm2[k+1] / norm2[k]) P[k-1]``.
    ``raw = TRUE`` gives ``x, x^2, ...``.
    """

    #: Set by memorize_finish (unless raw), which patsy calls before transform.
    alpha: np.ndarray
    norm2: np.ndarray

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    @staticmethod
    def _degree(degree) -> int:
        d = float(degree)
        if not d.is_integer() or d < 1:
            raise ModelSpecError(f"poly(): degree must be a positive whole number, got {degree!r}")
        return int(d)

    def memorize_chunk(self, x, degree=1, raw=False) -> None:
        self._chunks.append(_num(x, "poly()"))
        self._args = (self._degree(degree), bool(raw))

    def memorize_finish(self) -> None:
        x = np.concatenate(self._chunks)
        self._chunks = []
        degree, raw = self._args
        if raw:
            return
        if not np.all(np.isfinite(x)):
            raise ModelSpecError("poly(): missing or infinite values are not allowed")
        if degree >= len(np.unique(x)):
            raise ModelSpecError(
                f"poly(): 'degree' ({degree}) must be less than the number of unique points "
                f"({len(np.unique(x))})"
            )
        # Stieltjes procedure: the same alpha/norm2 as R's QR-based stats::poly.
        alpha = np.empty(degree)
        norm2 = [1.0, float(len(x))]
        prev, cur = np.zeros_like(x), np.ones_like(x)
        for k in range(degree):
            alpha[k] = float(np.sum(x * cur**2) / norm2[k + 1])
            nxt = (x - alpha[k]) * cur - (norm2[k + 1] / norm2[k]) * prev
            prev, cur = cur, nxt
            norm2.append(float(np.sum(cur**2)))
        self.alpha, self.norm2 = alpha, np.asarray(norm2)

    def transform(self, x, degree=1, raw=False) -> np.ndarray:
        x = _num(x, "poly()")
        degree = self._degree(degree)
        if raw:
            return np.column_stack([x**k for k in range(1, degree + 1)])
        alpha, norm2 = self.alpha, self.norm2
        Z = np.ones((len(x), degree + 1))
        Z[:, 1] = x - alpha[0]
        for i in range(1, degree):
            Z[:, i + 1] = (x - alpha[i]) * Z[:, i] - (norm2[i + 1] / norm2[i]) * Z[:, i - 1]
        return (Z / np.sqrt(norm2[1:]))[:, 1:]


def _ufunc(f, name: str):
    def fn(x):
        return f(_num(x, f"{name}()"))

    fn.__name__ = name
    return fn


def _r_log(x, base=np.e):
    x = _num(x, "log()")
    return np.log(x) if base == np.e else np.log(x) / np.log(float(base))


def _as_numeric(x):
    arr = np.asarray(x)
    if arr.dtype.kind == "b":
        return arr.astype(float)
    return _num(x, "as.numeric()")


def _ordered(*args, **kwargs):
    raise ModelSpecError(
        "ordered() codes a factor with polynomial contrasts (contr.poly), which are not "
        "implemented; use factor() (treatment contrasts) or poly() of the numeric codes"
    )


_CONTRASTS = {
    "Treatment": patsy.Treatment,
    "treatment": patsy.Treatment,
    "contr.treatment": patsy.Treatment,
    "Sum": patsy.Sum,
    "sum": patsy.Sum,
    "contr.sum": patsy.Sum,
    "Helmert": patsy.Helmert,
    "helmert": patsy.Helmert,
    "contr.helmert": patsy.Helmert,
}


def _ufuncs() -> dict[str, object]:
    table = {
        "exp": np.exp,
        "expm1": np.expm1,
        "log2": np.log2,
        "log10": np.log10,
        "log1p": np.log1p,
        "sqrt": np.sqrt,
        "abs": np.abs,
        "sin": np.sin,
        "cos": np.cos,
        "tan": np.tan,
        "asin": np.arcsin,
        "acos": np.arccos,
        "atan": np.arctan,
        "sinh": np.sinh,
        "cosh": np.cosh,
        "tanh": np.tanh,
        "floor": np.floor,
        "ceiling": np.ceil,
        "trunc": np.trunc,
        "sign": np.sign,
    }
    return {name: _ufunc(f, name) for name, f in table.items()}


def _py(name: str) -> str:
    return "R_" + name.replace(".", "_")


_IMPLS: dict[str, object] = {
    **_ufuncs(),
    "log": _r_log,
    "as.numeric": _as_numeric,
    "scale": patsy.stateful_transform(RScale),
    "poly": patsy.stateful_transform(RPoly),
    "factor": patsy.stateful_transform(RFactor),
    "as.factor": patsy.stateful_transform(RFactor),
    "relevel": patsy.stateful_transform(RRelevel),
    "ordered": _ordered,
}

#: R function name -> the Python name it is evaluated under (``I`` and ``C`` are patsy's).
FUNCTIONS: dict[str, str] = {name: _py(name) for name in _IMPLS} | {"I": "I", "C": "C"}
#: Names patsy evaluates the translated code in.
ENV: dict[str, object] = {_py(name): f for name, f in _IMPLS.items()} | {
    "R_pi": np.pi,
    **{f"R_contrast_{k.replace('.', '_')}": v for k, v in _CONTRASTS.items()},
}
CONTRASTS = {k: f"R_contrast_{k.replace('.', '_')}" for k in _CONTRASTS}
