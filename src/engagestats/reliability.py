"""Internal consistency: Cronbach's alpha, McDonald's omega total, item-total statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import check_choice, check_level, check_positive_int, renamed_arguments
from .errors import DataValidationError, DataWarning, InstrumentError
from .instruments import Instrument, resolve
from .scoring._items import item_columns_for, read_items

__all__ = [
    "AlphaResult",
    "OmegaResult",
    "cronbach_alpha",
    "item_total",
    "omega_total",
    "report",
]

Missing = Literal["listwise", "pairwise"]


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt confidence interval.

    Attributes
    ----------
    alpha, ci_low, ci_high : float
    n : int
        Rows used (listwise: complete rows; pairwise: rows with any answer).
    n_items : int
    n_dropped : int
        Rows left out (listwise: incomplete rows; pairwise: empty rows).
    missing : str
    level : float
        Confidence level of the interval.
    """

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    n_items: int
    n_dropped: int
    missing: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy DataFrame of the result."""
        return pd.DataFrame([self.__dict__])


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega total from a one-factor model.

    Attributes
    ----------
    omega, ci_low, ci_high : float
        CI bounds are NaN unless a bootstrap was requested.
    n, n_items, n_dropped : int
    loadings : tuple of float
        One-factor loadings (sign-aligned so that most are positive).
    """

    omega: float
    ci_low: float
    ci_high: float
    n: int
    n_items: int
    n_dropped: int
    loadings: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy DataFrame of the result (without the loadings)."""
        d = {k: v for k, v in self.__dict__.items() if k != "loadings"}
        return pd.DataFrame([d])


def _matrix(items: pd.DataFrame | np.ndarray, missing: str) -> tuple[pd.DataFrame, int]:
    check_choice(missing, ("listwise", "pairwise"), name="missing")
    df = pd.DataFrame(items)
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c].dtype)]
    if bad:
        raise DataValidationError(
            [{"file": "items", "column": str(c), "problem": "item column is not numeric"}
             for c in bad]
        )  # fmt: skip
    df = df.astype(float)
    if df.shape[1] < 2:
        raise InstrumentError(f"reliability needs at least 2 items, got {df.shape[1]}")
    keep = df.notna().all(axis=1) if missing == "listwise" else df.notna().any(axis=1)
    used = df.loc[keep]
    if len(used) < 3:
        raise DataValidationError(
            [{"file": "items", "problem": f"only {len(used)} usable rows ({missing})"}]
        )
    return used, int((~keep).sum())


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


@renamed_arguments(ci="level")
def cronbach_alpha(
    items: pd.DataFrame | np.ndarray, *, missing: Missing = "listwise", level: float = 0.95
) -> AlphaResult:
    """Cronbach's alpha with a Feldt confidence interval.

    Parameters
    ----------
    items : DataFrame or 2-D array
        One column per item (reverse-keyed items already reversed), one row per
        respondent; NaN for a missing answer.
    missing : {"listwise", "pairwise"}, default "listwise"
        Use complete rows only, or pairwise-complete covariances (as
        ``psych::alpha``, whose default this is).
    level : float, default 0.95
        Confidence level (``ci=``, its former name, is deprecated).

    Returns
    -------
    AlphaResult
        ``.alpha, .ci_low, .ci_high, .n, .n_items, .n_dropped``; ``to_frame()``.

    Notes
    -----
    ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))`` for the item covariance
    matrix ``C``. Feldt interval: ``1 - (1 - alpha) F_{1 - p/2}`` and
    ``1 - (1 - alpha) F_{p/2}`` with ``F`` quantiles on ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom, ``p = 1 - level``. Matches
    ``psych::alpha(x)$total$raw_alpha`` and ``$feldt`` (pairwise) and the same
    on ``na.omit(x)`` (listwise).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. *Psychometrika*, 16, 297-334. Feldt, L. S., Woodruff, D. J., &
    Salih, F. A. (1987). Statistical inference for coefficient alpha. *Applied
    Psychological Measurement*, 11, 93-103.

    Examples
    --------
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 5, 4]])
    >>> r = cronbach_alpha(x)
    >>> round(r.alpha, 4), r.n
    (0.9286, 5)
    """
    level = check_level(level)
    used, dropped = _matrix(items, missing)
    c = used.cov().to_numpy()
    a = _alpha_from_cov(c)
    n, k = len(used), used.shape[1]
    p = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - a) * stats.f.ppf(1 - p / 2, df1, df2)
    high = 1 - (1 - a) * stats.f.ppf(p / 2, df1, df2)
    return AlphaResult(a, float(low), float(high), n, k, dropped, missing, level)


def item_total(items: pd.DataFrame | np.ndarray, *, missing: Missing = "pairwise") -> pd.DataFrame:
    """Corrected item-total correlations and alpha if an item is deleted.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Items (reverse-keyed ones already reversed).
    missing : {"pairwise", "listwise"}, default "pairwise"

    Returns
    -------
    DataFrame
        One row per item: ``item, n`` (answers), ``mean, sd, r_drop`` (the
        correlation of the item with the sum of the other items) and
        ``alpha_if_deleted``.

    Notes
    -----
    From the covariance matrix ``C`` with column sums ``s``:
    ``r_drop_i = (s_i - C_ii) / sqrt(C_ii (sum(C) - 2 s_i + C_ii))``; as
    ``psych::alpha(x)$item.stats$r.drop`` and ``$alpha.drop$raw_alpha``.

    Examples
    --------
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 5, 4]])
    >>> item_total(x)[["item", "r_drop"]].round(3)
      item  r_drop
    0    0   0.971
    1    1   0.872
    2    2   0.776
    """
    used, _ = _matrix(items, missing)
    c = used.cov().to_numpy()
    s = c.sum(axis=0)
    d = np.diag(c)
    r_drop = (s - d) / np.sqrt(d * (c.sum() - 2 * s + d))
    k = c.shape[0]
    a_drop = [
        _alpha_from_cov(c[np.ix_(keep, keep)]) if k > 2 else np.nan
        for keep in (np.arange(k) != i for i in range(k))
    ]
    return pd.DataFrame(
        {
            "item": [str(c) for c in used.columns],
            "n": used.notna().sum().to_numpy(),
            "mean": used.mean().to_numpy(),
            "sd": used.std().to_numpy(),
            "r_drop": r_drop,
            "alpha_if_deleted": a_drop,
        }
    )


def _one_factor(r: np.ndarray, *, tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
    """Communalities of the one-factor least-squares (minres) solution.

    Principal-axis iteration from squared multiple correlations, run to a fixed
    point; that fixed point is the minres (ULS) solution.
    """
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(r.shape[0], 0.5)
    lam = np.sqrt(np.clip(h2, 0, None))
    for _ in range(max_iter):
        m = r.copy()
        np.fill_diagonal(m, h2)
        vals, vecs = np.linalg.eigh(m)
        lam = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
        new = lam**2
        if np.abs(new - h2).sum() < tol:
            h2 = new
            break
        h2 = new
    return lam


def _omega(used: pd.DataFrame) -> tuple[float, np.ndarray]:
    r = used.corr().to_numpy()
    if np.isnan(r).any():
        raise DataValidationError([{"file": "items", "problem": "an item has no variance"}])
    lam = _one_factor(r)
    key = np.where(np.sign(lam) == 0, 1.0, np.sign(lam))
    if key.sum() < 0:
        key, lam = -key, -lam
    rf = r * np.outer(key, key)
    h2 = lam**2
    if (h2 >= 1).any():
        import warnings

        warnings.warn("Heywood case: a communality is >= 1", DataWarning, stacklevel=3)
    vt = rf.sum()
    return float((vt - (1 - h2).sum()) / vt), lam


def omega_total(
    items: pd.DataFrame | np.ndarray,
    *,
    missing: Missing = "pairwise",
    n_boot: int = 0,
    level: float = 0.95,
    seed: int | None = None,
) -> OmegaResult:
    """McDonald's omega total from a one-factor least-squares (minres) model.

    Parameters
    ----------
    items : DataFrame or 2-D array
        One column per item.
    missing : {"pairwise", "listwise"}, default "pairwise"
        How the correlation matrix treats missing answers (psych uses pairwise).
    n_boot : int, default 0
        Percentile-bootstrap resamples for a CI (0: no CI, NaN bounds).
    level : float, default 0.95
        Confidence level of the bootstrap CI.
    seed : int, optional
        Seed of the bootstrap's ``numpy.random.Generator``.

    Returns
    -------
    OmegaResult
        ``.omega, .ci_low, .ci_high, .n, .n_items, .n_dropped, .loadings``.

    Notes
    -----
    With ``R`` the item correlation matrix (items whose loading is negative
    flipped, as psych does) and ``h2`` the communalities of one factor:
    ``omega_total = (sum(R) - sum(1 - h2)) / sum(R)``. This is
    ``psych::omega(x, nfactors = 1)$omega.tot`` (``fm = "minres"``); we reach
    the minres solution by iterating principal axes to convergence, which
    agrees with psych's optimiser to about 1e-7.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
    Revelle, W. (2024). psych: Procedures for Psychological, Psychometric, and
    Personality Research (``omega``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(500, 1))
    >>> x = f @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(500, 4))
    >>> round(omega_total(x).omega, 2)
    0.78
    """
    level = check_level(level)
    if n_boot != 0:
        check_positive_int(n_boot, name="n_boot", what="bootstrap resamples, or 0 for none")
    used, dropped = _matrix(items, missing)
    om, lam = _omega(used)
    low = high = np.nan
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        vals = np.array(
            [_omega(used.iloc[rng.integers(0, len(used), len(used))])[0] for _ in range(n_boot)]
        )
        low, high = np.quantile(vals, [(1 - level) / 2, 1 - (1 - level) / 2])
    return OmegaResult(
        om, float(low), float(high), len(used), used.shape[1], dropped, tuple(map(float, lam))
    )


def report(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    prefix: str | None = None,
    missing: Missing = "listwise",
    level: float = 0.95,
) -> pd.DataFrame:
    """Alpha (with Feldt CI) and omega total for every subscale of an instrument.

    Parameters
    ----------
    data : DataFrame
        Item answers; reverse-keyed items are reversed as the instrument says.
    instrument : str or Instrument
        An instrument, or the name of a registered or packaged example one
        (``"srq"``).
    prefix : str, optional
        Item column stem when it differs from the instrument name.
    missing : {"listwise", "pairwise"}, default "listwise"
    level : float, default 0.95
        Confidence level of the Feldt interval.

    Returns
    -------
    DataFrame
        One row per subscale with at least 2 items: ``instrument, scale,
        n_items, n, n_dropped, alpha, ci_low, ci_high, omega_total``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=300)
    >>> d = pd.DataFrame({f"gad7_{i}": np.clip(np.round(1.5 + f + rng.normal(size=300)), 0, 3)
    ...                   for i in range(1, 8)})
    >>> report(d, "gad7")[["scale", "n_items", "n"]]
       scale  n_items    n
    0  total        7  300
    """
    inst = resolve(instrument, examples=True)
    cols = item_columns_for(inst, prefix=prefix)
    x = read_items(data, inst, cols).values.copy()
    lo, hi = inst.response_range
    pos = {item: j for j, item in enumerate(inst.items)}
    for item in inst.reverse:
        x[:, pos[item]] = lo + hi - x[:, pos[item]]
    rows = []
    for sub, items in inst._subscales.items():
        if len(items) < 2:
            continue
        block = pd.DataFrame(x[:, [pos[i] for i in items]], columns=list(items))
        a = cronbach_alpha(block, missing=missing, level=level)
        o = omega_total(block, missing=missing)
        rows.append(
            (inst.name, sub, a.n_items, a.n, a.n_dropped, a.alpha, a.ci_low, a.ci_high, o.omega)
        )
    cols_out = ["instrument", "scale", "n_items", "n", "n_dropped", "alpha", "ci_low", "ci_high",
                "omega_total"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols_out)
