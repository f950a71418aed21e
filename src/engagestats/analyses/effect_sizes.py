"""Standardised effect sizes of a growth model: Feingold's d_GMA and pre-post d.

``effect_sizes(growth_model(study, predictors={"group": "treatment"}), group="group",
duration=12)`` returns an :class:`EffectSizes` with the growth-model d (delta-method
and parametric-bootstrap CIs), each group's pre-post d and the controlled pre-post d.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validate import check_positive_int
from ..errors import DataValidationError, ModelSpecError
from ..models._types import EngineFit
from ..scoring import state_policy
from ._therapist_variance import bootstrap
from ._time_scale import plain
from .outcome_model import OutcomeModel

__all__ = ["EffectSizes", "effect_sizes"]


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes of a growth model (returned by :func:`effect_sizes`).

    Attributes
    ----------
    table : DataFrame
        ``effect, contrast, estimate, se, ci_low, ci_high, ci_method, n``: one
        row per effect and interval method (``d_gma`` with ``delta``,
        ``delta_sd_fixed`` and ``bootstrap``; ``pre_post`` per group;
        ``d_ppc2`` between the two groups).
    components : DataFrame
        One row per time term of the model (one for ``time_method="session"``
        or ``"log"``, one per phase for ``"piecewise"``): ``term`` (its
        interaction with the group, backticks removed), ``time_code`` (the
        term's value at ``duration``), ``b, b_se``, and, the same in every row,
        ``group_difference`` (coded), ``duration``, ``difference`` and
        ``difference_se`` (the model-implied group difference at ``duration``,
        raw units), ``sd_baseline, df_sd, n_boot, n_failed, n_no_post``.
    """

    table: pd.DataFrame
    components: pd.DataFrame

    def summary(self) -> str:
        """The effect sizes with their intervals, one per line."""
        c = self.components.iloc[0]
        lines = [
            f"Effect sizes (SD: pooled within-group SD at intake, {c['sd_baseline']:.3f}; "
            f"duration {c['duration']:g} sessions since the first; model-implied "
            f"difference {c['difference']:.3f})"
        ]
        lines += [
            f"  {r.effect:<9} {r.contrast:<22} {r.estimate:7.3f} "
            f"[{r.ci_low:.3f}, {r.ci_high:.3f}] ({r.ci_method}, n = {r.n})"
            for r in self.table.itertuples()
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return (
            "<p><b>Effect sizes</b></p>"
            + self.table.to_html(index=False, float_format="%.4g")
            + "<p>Components</p>"
            + self.components.to_html(index=False, float_format="%.4g")
            + f"<p><i>{html.escape('SD: pooled within-group SD of the intake outcome')}</i></p>"
        )


def _group_terms(
    model: OutcomeModel, group: str
) -> tuple[list[tuple[str, str]], pd.Series, float, str, str]:
    """The time-term x group fixed effects, each row's group label and the coded difference.

    The first item pairs each of the model's time terms (``time``; ``log_time``;
    ``time_p1``, ``time_p2``, ...) with the name of its interaction with ``group`` as the
    fit names it (backticked pieces allowed).
    """
    if group not in model.spec.predictors:
        raise ModelSpecError(
            f"group={group!r} is not a predictor of the model; its predictors are "
            f"{sorted(model.spec.predictors)}"
        )
    column = model.spec.predictors[group]
    raw = model.data[column]
    values = sorted(raw.dropna().unique().tolist(), key=str)
    coded = model._coded(group)
    names = model._names()
    pairs = [
        (tt, names[key])
        for tt in model.time_scale.terms
        for piece, _ in coded
        if (key := frozenset({tt, piece})) in names
    ]
    if len(coded) != 1 or len(values) != 2 or len(pairs) != len(model.time_scale.terms):
        raise ModelSpecError(
            f"effect_sizes needs a two-group predictor; {group!r} has {len(values)} values "
            f"and time terms {[n for _, n in pairs]}"
        )
    if model.spec.kinds.get(group) == "categorical":
        level = str(coded[0][1])
        ref = next(str(v) for v in values if str(v) != level)
        return pairs, raw.astype(str), 1.0, ref, level
    lo, hi = float(min(values)), float(max(values))
    labels = raw.astype(float).map({lo: f"{lo:g}", hi: f"{hi:g}"})
    return pairs, labels, hi - lo, f"{lo:g}", f"{hi:g}"


def _fixed_vcov(model: OutcomeModel) -> np.ndarray:
    """V of the delta method: ``Phi_A`` (``pbkrtest::vcovAdj``) under Kenward-Roger df.

    With ``ddf="satterthwaite"`` it is the model-based covariance ``vcov(fit)``, unadjusted,
    which is also what lmerTest's Satterthwaite t tests use.
    """
    if model.ddf == "kenward-roger":
        return np.asarray(model.fit._kr.vcov_beta, dtype=float)
    return np.asarray(model.fit._fit.vcov_beta, dtype=float)


def _pooled_sd(y: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    ss, df = 0.0, 0
    for g in np.unique(labels):
        v = y[labels == g]
        ss += float(((v - v.mean()) ** 2).sum())
        df += len(v) - 1
    return float(np.sqrt(ss / df)), df


def _correction(df: int) -> float:
    """Hedges' small-sample bias correction c(df) = 1 - 3 / (4 df - 1)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def effect_sizes(
    model: OutcomeModel,
    *,
    group: str,
    duration: float,
    n_boot: int = 500,
    level: float = 0.95,
    seed: int | None = 1,
) -> EffectSizes:
    """Feingold's growth-model d (d_GMA) and pre-post d, with CIs.

    Parameters
    ----------
    model : OutcomeModel
        A :func:`~engagestats.analyses.growth_model` fit whose ``predictors``
        include ``group``.
    group : str
        A two-group intake predictor (term name): 0/1 (or any two numbers) or a
        two-level categorical; the contrast is the second group (the larger
        value, or the non-reference level) minus the first.
    duration : float
        Length of the treatment period in sessions since the first, whatever
        the model's ``time_method`` (it is coded like the model's time, e.g.
        :math:`\\log(1 + D)`): the planned treatment length, the time at which
        the two groups' mean trajectories are compared.
    n_boot : int, default 500
        Parametric-bootstrap refits for the bootstrap CI of d_GMA.
    level : float, default 0.95
        Coverage of the intervals.
    seed : int, optional, default 1
        Seed of the bootstrap.

    Returns
    -------
    EffectSizes
        ``table`` (tidy), ``components``, ``summary()``.

    Raises
    ------
    ModelSpecError
        When ``group`` is not a two-group predictor of the model.
    DataValidationError
        When ``duration`` is not positive or ``level`` not in (0, 1).

    Notes
    -----
    d_GMA (Feingold 2009) is the model-implied difference between the groups'
    mean outcomes at the end of treatment, over the raw-score SD at intake. For
    linear time (``time_method="session"``) it is Feingold's formula

    .. math::

        d_{GMA} = \\frac{b_{time \\times group}\\,\\Delta_g\\,D}{SD_{raw}}

    with :math:`D` = ``duration``, :math:`\\Delta_g` the coded difference
    between the groups (1 for 0/1 or categorical) and :math:`SD_{raw}` the
    pooled within-group SD of the outcome at time 0 over the analysed clients
    (each once; :math:`df = n - 2`). Feingold defines d_GMA for linear growth
    only. For the other time codings we use the same two ingredients, the
    model-implied group difference at :math:`D` and the same :math:`SD_{raw}`;
    this generalisation is ours, not Feingold's formula:

    .. math::

        d = \\frac{\\Delta_g \\sum_j b_{j \\times group}\\, c_j(D)}{SD_{raw}}
          = \\frac{L^\\top b}{SD_{raw}},

    :math:`L` holding :math:`\\Delta_g c_j(D)` at the time-term x group effects and 0
    elsewhere, summed over the model's time terms :math:`j` with their codes at :math:`D`
    sessions since the first (:math:`c(D) = \\log(1 + D)` for ``"log"``;
    :math:`\\min(D, k)` and :math:`\\max(D - k, 0)` for ``"piecewise"`` with
    knot :math:`k`, with more knots the sessions of :math:`D` spent in each phase,
    as :func:`~engagestats.prep.time_code` codes them; :math:`c(D) = D` for
    ``"session"``, where it reduces to the formula above). ``components`` has one
    row per time term (its code, :math:`b`, SE) and the difference
    :math:`L^\\top b` with its SE. The baseline SD is Feingold's choice: it is
    not affected by treatment, and it puts d_GMA on the metric of the classical
    between-group d. Its estimand is the total (intent-to-treat model-based)
    group difference at :math:`D`, not adjusted for any post-intake variable
    unless the model includes one. Intervals: ``delta``,

    .. math::

        \\mathrm{var}(d) \\approx L^\\top V L / SD_{raw}^2 + d^2 / (2\\,df),

    :math:`V` the covariance of the fixed effects (for linear time the first term
    is :math:`(\\Delta_g D / SD_{raw})^2 \\mathrm{var}(b)`), the second term for
    the sampling error of the SD; ``delta_sd_fixed`` omits it,
    :math:`(L^\\top b \\pm z\\,\\sqrt{L^\\top V L}) / SD_{raw}` (for linear time
    the interval of Feingold 2013, 2015); ``bootstrap``: percentile interval over
    parametric-bootstrap refits (simulate from the fitted model, refit, recompute
    :math:`L^\\top b` and the intake SD).

    Which :math:`V`: with the model's ``ddf="kenward-roger"`` it is the Kenward-Roger
    adjusted covariance :math:`\\Phi_A` (``pbkrtest::vcovAdj``, the covariance behind
    lmerTest's ``summary(fit, ddf = "Kenward-Roger")`` and emmeans' ``lmer.df =
    "kenward-roger"``), so ``b_se``, ``difference_se`` and both delta SEs are the
    Kenward-Roger ones. With ``ddf="satterthwaite"`` (the default) it is the unadjusted
    model-based covariance (``vcov(fit)``), the one Satterthwaite's method also uses: that
    path is unaffected. Under both the delta intervals are normal (:math:`z`), not :math:`t`
    with the model's df.

    Pre-post d (``pre_post``, per group) is :math:`c(n-1)(\\bar y_{post} - \\bar
    y_{pre}) / SD_{pre}` with the group's SD at intake (Becker 1988), the bias
    correction :math:`c(m) = 1 - 3/(4m - 1)` and the large-sample variance
    :math:`2(1 - r)/n + d^2/(2n)`, :math:`r` the pre-post correlation. ``pre`` is
    the client's outcome at time 0, ``post`` the client's last analysed outcome
    (clients with no later outcome are left out and counted in ``n_no_post``): in
    routine data with dropout this mixes ends of treatment, so ``d_gma`` is the
    comparison at a stated time. The controlled version (``d_ppc2``, Morris
    2008) divides the difference between the groups' mean changes by the pooled
    intake SD, :math:`d_{ppc2} = c_p [(\\bar y_{post,2} - \\bar y_{pre,2}) -
    (\\bar y_{post,1} - \\bar y_{pre,1})] / SD_{pre}`, :math:`c_p = c(n_1 + n_2 -
    2)`, with Morris's (2008, eq. 25) variance and a normal interval.

    References
    ----------
    Becker, B. J. (1988). Synthesizing standardized mean-change measures.
    *British Journal of Mathematical and Statistical Psychology, 41*, 257-278.

    Feingold, A. (2009). Effect sizes for growth-modeling analysis for
    controlled clinical trials in the same metric as for classical analysis.
    *Psychological Methods, 14*(1), 43-53.

    Feingold, A. (2013). A regression framework for effect size assessments in
    longitudinal modeling of group differences. *Review of General Psychology,
    17*(1), 111-121.

    Feingold, A. (2015). Confidence interval estimation for standardized effect
    sizes in multilevel and latent growth modeling. *Journal of Consulting and
    Clinical Psychology, 83*(1), 157-168.

    Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control
    group designs. *Organizational Research Methods, 11*(2), 364-386.

    Examples
    --------
    >>> import warnings
    >>> import engagestats as es
    >>> from engagestats.analyses import effect_sizes, growth_model
    >>> m = growth_model(es.load_sample(), predictors=["format"])
    >>> es_ = effect_sizes(m, group="format", duration=12, n_boot=5)
    >>> round(float(es_.table["estimate"].iloc[0]), 2)  # d_gma, individual vs group format
    -0.02
    >>> es_.table["effect"].unique().tolist()
    ['d_gma', 'pre_post', 'd_ppc2']
    >>> es_.table.columns.tolist()
    ['effect', 'contrast', 'estimate', 'se', 'ci_low', 'ci_high', 'ci_method', 'n']
    """
    if not isinstance(model, OutcomeModel):
        raise ModelSpecError(f"effect_sizes needs a growth_model fit, got {type(model).__name__}")
    if not np.isfinite(duration) or float(duration) <= 0:
        raise DataValidationError.for_argument(
            "duration", duration, "a positive length of treatment in sessions since the first"
        )
    if not 0 < float(level) < 1:
        raise DataValidationError.for_argument("level", level, "a number between 0 and 1")
    n_boot = check_positive_int(n_boot, name="n_boot")
    duration = float(duration)
    z = float(sps.norm.ppf((1 + float(level)) / 2))
    pairs, labels, delta_g, first, second = _group_terms(model, group)
    fit = model.fit._fit
    data = model.data
    client, outcome = model.spec.client, model.spec.outcome
    base_rows = (data["time"] == 0).to_numpy()
    base_labels = labels.to_numpy()[base_rows]
    contrast = f"{second} - {first}"

    # the model-implied group difference at D: L'beta, L the time codes at D times delta_g
    names = list(fit.design.fixed_names)
    index = [names.index(term) for _, term in pairs]
    codes = model.time_scale.code(np.array([duration]))
    at_d = np.array([float(codes[tt][0]) for tt, _ in pairs])
    weights = delta_g * at_d
    lvec = np.zeros(len(names))
    lvec[index] = weights

    def d_of(f: EngineFit) -> np.ndarray:
        sd, _ = _pooled_sd(np.asarray(f.design.y)[base_rows], base_labels)
        return np.array([float(lvec @ np.asarray(f.beta)) / sd])

    beta = np.asarray(fit.beta, dtype=float)
    vcov = _fixed_vcov(model)
    diff = float(lvec @ beta)
    diff_se = float(np.sqrt(lvec @ vcov @ lvec))
    sd_raw, df_sd = _pooled_sd(data[outcome].to_numpy(dtype=float)[base_rows], base_labels)
    d = diff / sd_raw
    se_fixed = diff_se / sd_raw
    se_full = float(np.sqrt(se_fixed**2 + d**2 / (2 * df_sd)))
    reps, failed, _ = bootstrap(fit, d_of, n_boot=n_boot, seed=seed)
    ok = reps[np.isfinite(reps[:, 0]), 0]
    alpha = (1 - float(level)) / 2
    boot_lo, boot_hi = (
        (float(np.quantile(ok, alpha)), float(np.quantile(ok, 1 - alpha)))
        if len(ok)
        else (np.nan, np.nan)
    )
    boot_se = float(ok.std(ddof=1)) if len(ok) > 1 else np.nan
    n_base = int(base_rows.sum())
    rows = [
        ("d_gma", contrast, d, se_full, d - z * se_full, d + z * se_full, "delta", n_base),
        (
            "d_gma",
            contrast,
            d,
            se_fixed,
            d - z * se_fixed,
            d + z * se_fixed,
            "delta_sd_fixed",
            n_base,
        ),
        ("d_gma", contrast, d, boot_se, boot_lo, boot_hi, "bootstrap", n_base),
    ]
    prepost, n_no_post = _pre_post(data, labels, client, outcome, (first, second), z)
    rows += prepost
    table = pd.DataFrame(
        rows,
        columns=["effect", "contrast", "estimate", "se", "ci_low", "ci_high", "ci_method", "n"],
    )
    comp = pd.DataFrame(
        {
            "term": [plain(term) for _, term in pairs],
            "time_code": at_d,
            "b": beta[index],
            "b_se": np.sqrt(np.diag(vcov)[index]),
            "group_difference": delta_g,
            "duration": duration,
            "difference": diff,
            "difference_se": diff_se,
            "sd_baseline": sd_raw,
            "df_sd": df_sd,
            "n_boot": len(ok),
            "n_failed": failed,
            "n_no_post": n_no_post,
        }
    )
    return EffectSizes(state_policy(table, model.scoring_policy), comp)


def _pre_post(
    data: pd.DataFrame,
    labels: pd.Series,
    client: str,
    outcome: str,
    groups: tuple[str, str],
    z: float,
) -> tuple[list[tuple], int]:
    """Rows of the within-group pre-post d (Becker) and the controlled d_ppc2 (Morris)."""
    frame = pd.DataFrame(
        {"client": data[client], "time": data["time"], "y": data[outcome], "g": labels}
    ).sort_values(["client", "time"], kind="stable")
    by = frame.groupby("client", sort=True)
    pre = frame.loc[frame["time"] == 0].set_index("client")["y"]
    last = by.tail(1).set_index("client")
    keep = last.index[(last["time"] > 0) & last.index.isin(pre.index)]
    n_no_post = int(by.ngroups - len(keep))
    pp = pd.DataFrame(
        {"pre": pre.reindex(keep), "post": last.loc[keep, "y"], "g": last.loc[keep, "g"]}
    )
    rows: list[tuple] = []
    stats: dict[str, tuple[float, float, float, int]] = {}
    for g in groups:
        sub = pp.loc[pp["g"] == g]
        n = len(sub)
        if n < 3:
            raise ModelSpecError(f"group {g!r} has {n} clients with an intake and a later outcome")
        sd_pre = float(sub["pre"].std(ddof=1))
        r = float(np.corrcoef(sub["pre"], sub["post"])[0, 1])
        change = float((sub["post"] - sub["pre"]).mean())
        d = _correction(n - 1) * change / sd_pre
        se = float(np.sqrt(2 * (1 - r) / n + d**2 / (2 * n)))
        rows.append(("pre_post", g, d, se, d - z * se, d + z * se, "normal", n))
        stats[g] = (change, sd_pre, r, n)
    (c1, s1, _, n1), (c2, s2, _, n2) = stats[groups[0]], stats[groups[1]]
    df = n1 + n2 - 2
    sd_pool = float(np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df))
    cp = _correction(df)
    d_ppc2 = cp * (c2 - c1) / sd_pool
    # Morris (2008, eq. 25), with rho the pooled within-group pre-post correlation
    rho = float(np.mean([np.corrcoef(s["pre"], s["post"])[0, 1] for _, s in pp.groupby("g")]))
    k = 2 * (1 - rho) * (n1 + n2) / (n1 * n2)
    var = cp**2 * k * (df / (df - 2)) * (1 + d_ppc2**2 / k) - d_ppc2**2
    se = float(np.sqrt(var))
    rows.append(
        (
            "d_ppc2",
            f"{groups[1]} - {groups[0]}",
            d_ppc2,
            se,
            d_ppc2 - z * se,
            d_ppc2 + z * se,
            "normal",
            n1 + n2,
        )
    )
    return rows, n_no_post
