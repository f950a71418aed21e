"""Text and HTML rendering of :class:`~engagestats.models.result.LmmResult`."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .result import LmmResult


def _method(res: LmmResult) -> str:
    crit = "REML" if res.reml else "Maximum likelihood"
    if res.engine == "engagestats":
        return f"Linear mixed model fit by {crit}. t-tests use Satterthwaite's method"
    return f"Linear mixed model fit by {crit} (statsmodels MixedLM). Wald z tests (df = inf)"


def fmt_p(p: float) -> str:
    return "<2e-16" if p < 2e-16 else f"{p:.3g}"


def _stars(p: float) -> str:
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def _fixed_display(res: LmmResult) -> pd.DataFrame:
    fx = res.fixed
    return pd.DataFrame(
        {
            "Estimate": fx["estimate"].map(lambda v: f"{v:.4g}"),
            "Std. Error": fx["se"].map(lambda v: f"{v:.4g}"),
            "df": fx["df"].map(lambda v: "inf" if np.isinf(v) else f"{v:.1f}"),
            "t value": fx["t"].map(lambda v: f"{v:.3f}"),
            "Pr(>|t|)": fx["p"].map(fmt_p),
            "": fx["p"].map(_stars),
        },
        index=fx.index,
    )


def _random_display(res: LmmResult) -> pd.DataFrame:
    vc = res.varcorr
    var = vc[vc["var2"].isna()]
    return pd.DataFrame(
        {
            "Groups": var["group"].where(var["group"].ne(var["group"].shift()), ""),
            "Name": var["var1"].fillna(""),
            "Variance": var["vcov"].map(lambda v: f"{v:.4g}"),
            "Std.Dev.": var["sdcor"].map(lambda v: f"{v:.4g}"),
        }
    )


def _criteria(res: LmmResult) -> str:
    if res.reml:
        return f"REML criterion at convergence: {res.deviance:.1f}"
    return (
        f"AIC {res.aic:.1f}  BIC {res.bic:.1f}  logLik {res.loglik:.1f}  "
        f"deviance {res.deviance:.1f}"
    )


def _groups_line(res: LmmResult) -> str:
    groups = "; ".join(f"{g}, {n}" for g, n in res.ngroups.items())
    dropped = f" ({res.n_dropped} rows with missing values dropped)" if res.n_dropped else ""
    return f"Number of obs: {res.nobs}, groups: {groups}{dropped}"


def summary_text(res: LmmResult) -> str:
    """Text summary in the layout of lmerTest's ``summary()``."""
    parts = [
        _method(res),
        f"Formula: {res.formula}",
        "",
        _criteria(res),
        "",
        "Random effects:",
        _random_display(res).to_string(index=False),
        _groups_line(res),
        "",
        "Fixed effects:",
        _fixed_display(res).to_string(),
    ]
    corr = res.varcorr.dropna(subset=["var2"])
    if len(corr):
        parts += [
            "",
            "Random-effect correlations:",
            corr.loc[:, ["group", "var1", "var2", "sdcor"]]
            .rename(columns={"sdcor": "corr"})
            .to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
    if not res.converged:
        parts += ["", "Warning: the optimiser did not report convergence."]
    return "\n".join(parts)


def short_repr(res: LmmResult) -> str:
    """One-paragraph repr."""
    crit = "REML" if res.reml else "ML"
    return (
        f"<LmmResult {res.formula!r}: {crit}, n = {res.nobs}, "
        f"{', '.join(f'{g} {n}' for g, n in res.ngroups.items())}; "
        f"deviance {res.deviance:.2f}>"
    )


def summary_html(res: LmmResult) -> str:
    """HTML summary for notebooks."""
    return (
        f"<div><p><b>{html.escape(_method(res))}</b><br>"
        f"Formula: <code>{html.escape(res.formula)}</code><br>"
        f"{html.escape(_criteria(res))}<br>{html.escape(_groups_line(res))}</p>"
        f"<p>Random effects</p>{_random_display(res).to_html(index=False)}"
        f"<p>Fixed effects</p>{_fixed_display(res).to_html()}</div>"
    )
