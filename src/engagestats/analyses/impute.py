"""Multiple imputation of a session-level outcome that respects clustering: :func:`impute`.

Two-level imputation: each client has a random intercept and a random time slope, the
therapist enters through the therapist mean of the observed outcome, and every imputation
draws the model parameters and the client's random effects before drawing the missing
values. :class:`Imputations` holds the ``m`` completed panels; :meth:`Imputations.fit`
fits a model to each and :func:`engagestats.pool` pools them. ``delta`` shifts the
imputed values of dropouts (a delta-adjustment sensitivity analysis for data missing not
at random).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import as_table, check_positive_int, require_columns
from ..errors import DataValidationError
from ..scoring import policy_for, state_policy
from ..study import CLIENT, SESSION, THERAPIST, Study
from ._impute_draw import DrawModel, fit_draw_model
from ._panel import named_terms, scored_study

__all__ = ["Imputations", "impute"]

DEFAULT_PREDICTORS = ("srq_autonomous", "urica_readiness")
METHOD = (
    "two-level normal imputation: {y} ~ {t} * ({preds}) + therapist mean of {y} + "
    "(1 + {t} | {client}); per imputation sigma^2, beta, the client covariance matrix and "
    "the client random effects are drawn before the missing values"
)
METHOD_3L = (
    "three-level normal imputation: {y} ~ {t} * ({preds}) + (1 + {t} | {client}) + "
    "(1 + {t} | {therapist}); per imputation sigma^2, beta, the client and therapist "
    "covariance matrices, the therapist and then the client random effects are drawn before "
    "the missing values"
)


@dataclass(frozen=True)
class Imputations:
    """``m`` completed data sets (returned by :func:`impute`).

    Attributes
    ----------
    datasets : list of DataFrame
        The completed panels; ``<outcome>_imputed`` marks the imputed cells.
    outcome : str
    method : str
        The imputation model in words.
    delta : float
        Shift added to the imputed values of dropouts (0: missing at random).
    missing : DataFrame
        ``what, n_rows, n_clients``: rows imputed, imputed rows of dropouts,
        rows added after dropout, rows left missing (predictor missing);
        ``attrs["scoring_policy"]`` records a Study's scoring policy.
    seed : int or None
    notes : tuple of str
    """

    datasets: list[pd.DataFrame]
    outcome: str
    method: str
    delta: float
    missing: pd.DataFrame
    seed: int | None
    notes: tuple[str, ...] = ()

    @property
    def m(self) -> int:
        """Number of imputations."""
        return len(self.datasets)

    def long(self) -> pd.DataFrame:
        """The imputations stacked, with ``.imp`` = 1..m (``mice::complete(imp, "long")``)."""
        return pd.concat(
            [d.assign(**{".imp": i + 1}) for i, d in enumerate(self.datasets)], ignore_index=True
        )

    @classmethod
    def from_long(
        cls, frame: pd.DataFrame, *, outcome: str, imp: str = ".imp", method: str = "external"
    ) -> Imputations:
        """Imputations made elsewhere, e.g. R's ``mice::complete(imp, "long")`` as CSV.

        Rows with ``imp == 0`` (mice's ``include = TRUE`` original data) are dropped.

        Examples
        --------
        >>> import pandas as pd
        >>> from engagestats.analyses import Imputations
        >>> long = pd.DataFrame({".imp": [1, 1, 2, 2], "y": [1.0, 2.0, 1.5, 2.0]})
        >>> Imputations.from_long(long, outcome="y").m
        2
        """
        require_columns(frame, [imp, outcome], table="imputations", role="imputation")
        if frame[outcome].isna().any():
            n = int(frame[outcome].isna().sum())
            raise DataValidationError.for_argument(
                "frame", f"{n} missing values in {outcome!r}", "completed data sets"
            )
        parts = [g.drop(columns=imp).reset_index(drop=True) for k, g in frame.groupby(imp) if k]
        if len(parts) < 2:
            raise DataValidationError.for_argument(imp, len(parts), "at least 2 imputations")
        empty = pd.DataFrame(columns=["what", "n_rows", "n_clients"])
        return cls(parts, outcome, method, 0.0, empty, None)

    def fit(self, model: Callable[[pd.DataFrame], Any]) -> list[Any]:
        """``[model(d) for d in datasets]``: fit one model per imputation, for :func:`pool`."""
        return [model(d) for d in self.datasets]

    def summary(self) -> str:
        """Method, delta and the missing-data accounting as text."""
        lines = [
            f"{self.m} imputations of {self.outcome} (seed {self.seed})",
            f"Method: {self.method}",
            f"Delta (added to imputed values of dropouts): {self.delta:g}"
            + ("" if self.delta == 0 else " -- an MNAR sensitivity scenario"),
            self.missing.to_string(index=False),
            *(f"Note: {n}" for n in self.notes),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Imputations m = {self.m} of {self.outcome!r}, delta = {self.delta:g}>"

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.m} imputations of {self.outcome}; {self.method}")
        return f"<div><p>{head}</p>{self.missing.to_html(index=False)}</div>"


def _panel(data: Study | pd.DataFrame, outcome: str, preds: list[str]) -> pd.DataFrame:
    if isinstance(data, Study):
        scored = scored_study(data, [outcome, *preds])
        panel = scored.panel()
        return panel.reset_index(drop=True)
    return as_table(data, "sessions").reset_index(drop=True).copy()


def _extend(panel: pd.DataFrame, planned: str, session: str, outcome: str) -> pd.DataFrame:
    """Add the sessions after dropout up to ``planned``.

    Columns constant within every client (client and therapist columns) are copied from
    the client's last row; every other column, and always the outcome, is missing.
    """
    drop = panel[panel["end_reason"] == "dropout"]
    last = drop.groupby(CLIENT)[session].max()
    plan = drop.groupby(CLIENT)[planned].first()
    rows = []
    for cid, s_last in last.items():
        n_plan = plan.loc[cid]
        if pd.isna(n_plan) or n_plan <= s_last:
            continue
        template = drop[drop[CLIENT] == cid].iloc[[-1]]
        new = pd.concat([template] * int(n_plan - s_last), ignore_index=True)
        new[session] = np.arange(int(s_last) + 1, int(n_plan) + 1)
        rows.append(new)
    if not rows:
        return panel.assign(post_dropout=False)
    added = pd.concat(rows, ignore_index=True)
    client_cols = [c for c in panel.columns if panel.groupby(CLIENT)[c].nunique().max() <= 1]
    keep = (set(client_cols) | {CLIENT, session}) - {outcome}
    for c in added.columns:
        if c not in keep:
            added[c] = np.nan if pd.api.types.is_numeric_dtype(added[c]) else None
    out = pd.concat([panel.assign(post_dropout=False), added.assign(post_dropout=True)])
    return out.sort_values([CLIENT, session], kind="stable").reset_index(drop=True)


def impute(
    data: Study | pd.DataFrame,
    *,
    m: int = 20,
    seed: int | None = None,
    outcome: str = "phq9_total",
    predictors: Sequence[str] | None = None,
    time: str = SESSION,
    client: str = CLIENT,
    therapist: str = THERAPIST,
    delta: float = 0.0,
    extend_dropouts: bool = False,
    therapist_slope: bool = False,
) -> Imputations:
    """Impute a missing session-level outcome ``m`` times with a two-level model.

    Parameters
    ----------
    data : Study or DataFrame
        A Study (its session panel, scored under the analyses' policy) or a
        session-level DataFrame with the client, therapist, time, outcome and
        predictor columns.
    m : int, default 20
        Number of imputations (van Buuren 2018, sec. 2.8: 20 or more when the
        fraction of missing information is moderate).
    seed : int, optional
        Seed of ``numpy.random.default_rng``.
    outcome : str, default "phq9_total"
    predictors : sequence of str, optional
        Client-level predictors of the imputation model (each also interacted
        with time); default intake autonomous motivation and readiness. Put
        every predictor of the analysis model here.
    time, client, therapist : str
        Key columns.
    delta : float, default 0.0
        Added to every imputed outcome of a client whose ``end_reason`` is
        ``"dropout"`` (delta-adjustment; positive = worse on PHQ-9).
    extend_dropouts : bool, default False
        Add rows for a dropout's sessions after the last one up to
        ``planned_sessions`` (``post_dropout = True``), to be imputed too.
    therapist_slope : bool, default False
        ``True``: a three-level imputation model with therapist random
        intercepts and slopes in place of the therapist-mean predictor, so
        that imputations carry therapist differences in change (congenial with
        an analysis model with ``(1 + time | therapist)``; see Notes).

    Returns
    -------
    Imputations
        ``.datasets`` (m completed panels), ``.missing`` (what was imputed),
        ``.fit(model)``, ``.long()``.

    Raises
    ------
    DataValidationError
        Missing columns, ``m < 2``, a non-numeric predictor, or ``delta`` /
        ``extend_dropouts`` without an ``end_reason`` column.

    Notes
    -----
    Imputation model, for session ``t`` of client ``i`` of therapist ``j``::

        y_tij = x_tij' beta + z_tij' b_i + e_tij,  b_i ~ N(0, G),  e_tij ~ N(0, sigma^2)

    with ``x`` = time, the predictors, their time interactions and the
    therapist mean of the observed outcome (a manifest cluster mean, the
    fixed-effect stand-in for a therapist random intercept; Enders, Mistler
    & Keller, 2016; Lüdtke, Robitzsch & Grund, 2017), ``z = (1, time)``.
    The model is fitted once by REML to the observed rows; then, per
    imputation (after mice's ``2l.lmer``, Jolani 2018, with normal draws):

    1. ``sigma^2* = sigma^2 (n - p) / chi^2_{n-p}``;
    2. ``beta* ~ N(beta, V_beta sigma^2* / sigma^2)``;
    3. ``G* ~ InvWishart(q_c, G (q_c - 3))`` with ``q_c`` clients (mean ``G``);
       kept at ``G`` when ``G`` is singular (noted);
    4. ``b_i* ~ N(V_i Z_i'(y_i - X_i beta*) / sigma^2*, V_i)``,
       ``V_i = G* (Z_i'Z_i G* / sigma^2* + I)^{-1}`` (the conditional
       distribution given client ``i``'s observed scores; ``N(0, G*)``
       without any);
    5. ``y_mis* = x' beta* + z' b_i* + e*``, ``e* ~ N(0, sigma^2*)``, plus
       ``delta`` for dropouts.

    This is a random-intercept-and-slope imputation at the client level and
    a fixed (cluster-mean) one at the therapist level; it is congenial with
    growth models whose fixed part is within ``time * predictors`` and whose
    therapist term is at most a random intercept.

    ``therapist_slope=True`` (three-level): the therapist mean is dropped and
    ``u_j ~ N(0, T)``, a therapist random intercept and slope, is added,
    ``y = x' beta + z' b_i + z' u_j + e``. Step 3 also draws
    ``T* ~ InvWishart(q_t, T (q_t - 3))`` (``q_t`` therapists with data; kept
    at ``T`` when singular or ``q_t < 5``), and step 4 becomes 4a, ``u_j*``
    from its distribution given therapist ``j``'s observed scores with the
    client effects integrated out, ``N(V_j s_j, V_j)``, ``V_j = T*(S_j T* +
    I)^{-1}``, ``S_j = sum_i Z_i' W_i^{-1} Z_i``, ``s_j = sum_i Z_i' W_i^{-1}
    r_i``, ``W_i = sigma^2* I + Z_i G* Z_i'``; then 4b, ``b_i*`` as in step 4
    with ``y_i - X_i beta* - Z_i u_j*``. Together these are one exact draw of
    all random effects given the parameters. A therapist-mean change entered
    as a fixed predictor would be the slope analogue of the cluster-mean
    stand-in; it was not chosen because cluster-specific fixed effects in the
    imputation model bias the random-slope variance and fixed-effect
    intervals of random-coefficient analysis models (Speidel, Drechsler &
    Sakshaug, 2018), and a manifest mean over ~10 clients is an unreliable
    measure of a therapist's change (Lüdtke, Robitzsch & Grund, 2017, show
    the same for cluster means with small clusters). The imputation model
    must be at least as general as the analysis model (van Buuren, 2018,
    ch. 7; Enders, Mistler & Keller, 2016); miceadds' ``ml.lmer`` offers
    the same multi-level random-slope model in R. Values
    are not rounded or bounded to the questionnaire range (rounding biases
    estimates; van Buuren 2018, sec. 6.4). Rows whose predictors are missing
    are left missing and counted.

    Delta adjustment (Carpenter & Kenward 2013, ch. 10; van Buuren 2018,
    sec. 3.9): the analysis is repeated for several ``delta`` values; if the
    conclusion changes at a plausible ``delta``, it rests on the MAR
    assumption.

    References
    ----------
    Carpenter, J. R., & Kenward, M. G. (2013). *Multiple imputation and its application*.
    Wiley.

    Enders, C. K., Mistler, S. A., & Keller, B. T. (2016). Multilevel multiple
    imputation: A review and evaluation of joint modeling and chained equations
    imputation. *Psychological Methods, 21*(2), 222-240.

    Speidel, M., Drechsler, J., & Sakshaug, J. W. (2018). Biases in multilevel analyses
    caused by cluster-specific fixed-effects imputation. *Behavior Research Methods, 50*(5),
    1824-1840.

    Jolani, S. (2018). Hierarchical imputation of systematically and sporadically missing
    data: An approximate Bayesian approach using chained equations. *Biometrical Journal,
    60*(2), 333-351.

    Lüdtke, O., Robitzsch, A., & Grund, S. (2017). Multiple imputation of missing data in
    multilevel designs: A comparison of different strategies. *Psychological Methods,
    22*(1), 141-165.

    van Buuren, S. (2018). *Flexible imputation of missing data* (2nd ed.), ch. 7. CRC Press.

    Examples
    --------
    >>> import engagestats as es
    >>> imps = es.impute(es.load_sample(), m=3, seed=1)
    >>> imps.m, int(imps.datasets[0]["phq9_total_imputed"].sum())
    (3, 351)
    >>> int(imps.missing.set_index("what").loc["left missing (predictor missing)", "n_rows"])
    14
    >>> fits = imps.fit(lambda d: es.lmm("phq9_total ~ session + (1 + session | client_id)", d))
    >>> es.pool(fits).loc["session", ["estimate", "df"]].round(2).tolist()
    [-0.65, 283.04]

    With therapist random intercepts and slopes in the imputation model:

    >>> three = es.impute(es.load_sample(), m=2, seed=1, therapist_slope=True)
    >>> three.method.split(":")[0]
    'three-level normal imputation'
    """
    m = check_positive_int(m, name="m", minimum=2, what="imputations")
    preds = list(named_terms(list(DEFAULT_PREDICTORS) if predictors is None else predictors))
    panel = _panel(data, outcome, preds)
    require_columns(panel, [client, therapist, time, outcome, *preds], table="sessions")
    for c in [time, outcome, *preds]:
        if not pd.api.types.is_numeric_dtype(panel[c]):
            raise DataValidationError.for_argument(c, str(panel[c].dtype), "a numeric column")
    if (delta != 0 or extend_dropouts) and "end_reason" not in panel.columns:
        raise DataValidationError.for_columns(
            {"sessions": ["end_reason"]}, role="dropout (delta, extend_dropouts)"
        )
    if extend_dropouts:
        require_columns(panel, ["planned_sessions"], table="clients", role="extend_dropouts")
        panel = _extend(panel, "planned_sessions", time, outcome)
    model: DrawModel = fit_draw_model(
        panel, outcome, preds, time, client, therapist, therapist_slope=bool(therapist_slope)
    )
    rng = np.random.default_rng(seed)
    dropout = (
        (panel["end_reason"] == "dropout").to_numpy()
        if "end_reason" in panel.columns
        else np.zeros(len(panel), dtype=bool)
    )
    todo = model.impute_rows
    datasets = []
    for _ in range(m):
        values = model.draw(rng)
        d = panel.copy()
        d[f"{outcome}_imputed"] = False
        d.loc[todo, outcome] = values + delta * dropout[todo]
        d.loc[todo, f"{outcome}_imputed"] = True
        datasets.append(d)

    def count(mask: np.ndarray) -> tuple[int, int]:
        return int(mask.sum()), int(panel.loc[mask, client].nunique())

    post = panel["post_dropout"].to_numpy() if "post_dropout" in panel.columns else todo & False
    missing = pd.DataFrame(
        [
            ("imputed", *count(todo)),
            ("imputed, dropouts (delta added)", *count(todo & dropout)),
            ("added after dropout", *count(post)),
            ("left missing (predictor missing)", *count(model.left_missing)),
        ],
        columns=["what", "n_rows", "n_clients"],
    )
    template = METHOD_3L if therapist_slope else METHOD
    method = template.format(
        y=outcome, t=time, preds=" + ".join(preds) or "1", client=client, therapist=therapist
    )
    state_policy(missing, policy_for(data) if isinstance(data, Study) else None)
    return Imputations(datasets, outcome, method, float(delta), missing, seed, model.notes)
