"""The :class:`OutcomeModel`: a fitted growth model with effects, trajectories and tables."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._validate import check_level
from ..errors import ModelSpecError
from ..models.inference import check_ddf
from ..scoring import ScoringPolicy, state_policy
from . import _moderation, _prediction, _tables
from ._estimands import estimand
from ._interpretation import interpret
from ._time_scale import TimeScale, plain, split_term

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..models import LmmResult
    from ._panel import PanelSpec

__all__ = ["OutcomeModel"]

SD_LABELS = ("-1 SD", "mean", "+1 SD")


class OutcomeModel:
    """A fitted growth model of therapy outcome (returned by :func:`growth_model`).

    Attributes
    ----------
    fit : LmmResult
        The fitted linear mixed model.
    formula : str
        The lme4 formula that was fitted.
    data : DataFrame
        The model frame: the rows used, with the coded columns (``time``,
        centred predictors, ``<x>_between``, ``<x>_within_lag``).
    exclusions : DataFrame
        ``reason, n_rows, n_clients``: rows left out and why.
    spec : PanelSpec
        The coding (centring constants, SDs, levels) used for new data.
    higher_is_worse : bool
        Direction of the outcome, used by the interpretations.
    ddf : str
        ``"satterthwaite"`` or ``"kenward-roger"``: the degrees of freedom
        (and, for Kenward-Roger, the adjusted covariance) of every test.
    scoring_policy : ScoringPolicy or None
        The study's scoring policy, under which the scores were computed (None
        for a DataFrame, whose scores are used as given). :meth:`effects` and
        :meth:`table` record it in ``attrs["scoring_policy"]``; :meth:`summary`,
        the text tables and the notebook display state it.

    Examples
    --------
    >>> import engagestats as es
    >>> from engagestats.analyses import growth_model
    >>> study = es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=2)
    >>> m = growth_model(study, predictors={"autonomous": "srq_autonomous"})
    >>> m.effects()["term"].tolist()
    ['time', 'autonomous', 'time:autonomous']
    >>> m.trajectories(by="autonomous", times=[0, 5]).columns.tolist()
    ['autonomous', 'time', 'estimate', 'se', 'ci_low', 'ci_high']
    >>> m.scoring_policy.name, m.effects().attrs["scoring_policy"].name
    ('prorate_80', 'prorate_80')
    """

    def __init__(
        self,
        *,
        fit: LmmResult,
        spec: PanelSpec,
        data: pd.DataFrame,
        exclusions: pd.DataFrame,
        higher_is_worse: bool = True,
        ddf: str = "satterthwaite",
    ) -> None:
        self.fit = fit
        self.spec = spec
        self.data = data
        self.exclusions = exclusions
        self.higher_is_worse = bool(higher_is_worse)
        self.ddf = check_ddf(ddf)

    # ------------------------------------------------------------ basics
    @property
    def scoring_policy(self) -> ScoringPolicy | None:
        """The scoring policy of the study the model was fitted to (None for a DataFrame)."""
        return getattr(self.spec, "scoring_policy", None)

    @property
    def formula(self) -> str:
        """The lme4 formula that was fitted."""
        return self.fit.formula

    @property
    def outcome(self) -> str:
        """The outcome column."""
        return self.spec.outcome

    @property
    def time_scale(self) -> TimeScale:
        """The time coding (``time_method``, knots, the model's time terms)."""
        return self.spec.time_scale

    @property
    def slope_terms(self) -> list[str]:
        """Terms interacting with time: intake predictors and between parts."""
        return list(self.spec.predictors) + [f"{v}_between" for v in self.spec.time_varying]

    def _names(self) -> dict[frozenset[str], str]:
        """Coefficient name by its set of plain pieces (backticks removed)."""
        return {frozenset(split_term(n)): n for n in self.fit.fixed.index}

    def _coded(self, term: str) -> list[tuple[str, str | None]]:
        """Coded columns of a term: [(lme4 piece, level or None)]."""
        if self.spec.kinds.get(term) == "categorical":
            return [(f"{term}{lv}", lv) for lv in self.spec.levels[term][1:]]
        return [(term, None)]

    # ----------------------------------------------------------- effects
    def effects(self, *, level: float = 0.95) -> pd.DataFrame:
        """The effects of interest, with plain-language interpretations.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level (t intervals with the model's ``ddf``: Satterthwaite by default).

        Returns
        -------
        DataFrame
            One row per effect: ``term`` (lme4 name, without the backticks of
            a quoted column name), ``effect`` (what it is), ``estimand``
            (between or within clients, intake level or change, and total or
            controlled direct effect: see Notes),
            ``estimate, se, df, t, p, ci_low, ci_high`` (per unit of the
            predictor, as in ``fit.fixed``), ``sd`` (the predictor's SD over
            clients, or of the within part over sessions; NaN for time and
            categorical levels) and ``interpretation`` (per SD for continuous
            predictors). Moderation terms are in :meth:`moderation`.

        Notes
        -----
        For an outcome where higher is worse, a negative time slope (or a
        negative interaction with time) is improvement (faster improvement).

        Time rows and slopes: one per time term of the model's ``time_method``:
        ``time`` (per session), ``log_time`` (per unit of :math:`\\log(1 + t)`,
        :math:`t` the sessions since the first, so the change from the first
        session to :math:`t` sessions later is the slope times :math:`\\log(1 + t)`)
        or ``time_p1``, ``time_p2``, ... (per session within each phase); the
        ``effect``, ``estimand`` and ``interpretation`` say which.

        ``estimand``: an intake predictor's effect is a *total* effect (given the
        other intake covariates) when the model holds intake covariates only, and
        a *controlled direct* effect when it also holds post-intake variables
        such as the alliance, a possible mediator (VanderWeele 2015). Within
        parts are within-client prospective associations (Curran & Bauer 2011).
        None is causal without further assumptions.
        """
        level = check_level(level)
        names, scale = self._names(), self.time_scale
        # term (coefficient name), effect, sd, kind, time term (None: not a slope)
        rows: list[tuple[str, str, float, str, str | None]] = []
        for tt in scale.terms:
            what = "per session (average client)"
            what = what if tt == "time" else f"{scale.per(tt)}, average client"
            rows.append((tt, f"change {what}", np.nan, "time", tt))
        for term in self.slope_terms:
            for piece, lv in self._coded(term):
                sd = np.nan if lv is not None else self.spec.sds.get(term, np.nan)
                label = self._label(term, lv)
                main = names.get(frozenset([piece]), piece)
                rows.append((main, f"{label}: level at intake", sd, "level", None))
                for tt in scale.terms:
                    name = names.get(frozenset((tt, piece)))
                    if name is not None:
                        what = "change per session" if tt == "time" else f"change {scale.per(tt)}"
                        rows.append((name, f"{label}: {what}", sd, "slope", tt))
        for v in self.spec.time_varying:
            w = self.spec.within_name(v)
            when = {0: "same session", 1: "previous session"}.get(
                self.spec.lag, f"{self.spec.lag} sessions earlier"
            )
            given = f", given the previous {self.outcome}" if self.spec.prior_name else ""
            effect = f"{v} within client, {when}{given}"
            name = names.get(frozenset([w]), w)
            rows.append((name, effect, self.spec.sds[w], "within", None))
        terms = [r[0] for r in rows]
        L = pd.DataFrame(
            np.eye(len(self.fit.fixed))[[self._index(t) for t in terms]],
            columns=self.fit.fixed.index,
            index=terms,
        )
        table = self.fit.contrast(L, level=level, ddf=self.ddf).reset_index(drop=True)
        out = pd.DataFrame(
            {
                "term": [plain(t) for t in terms],
                "effect": [r[1] for r in rows],
                "estimand": [
                    estimand(self.spec, self._piece(r[0], r[4]), r[3], time_term=r[4]) for r in rows
                ],
            }
        )
        out = pd.concat([out, table], axis=1)
        out["sd"] = [r[2] for r in rows]
        out["interpretation"] = [
            interpret(self, r, est, lo, hi, level)
            for r, est, lo, hi in zip(
                rows, out["estimate"], out["ci_low"], out["ci_high"], strict=True
            )
        ]
        return state_policy(out, self.scoring_policy)

    @staticmethod
    def _piece(name: str, time_term: str | None) -> str:
        """The plain predictor piece of a coefficient name (its time term removed)."""
        pieces = [p for p in split_term(name) if p != time_term]
        return ":".join(pieces) if pieces else (time_term or name)

    def _index(self, term: str) -> int:
        try:
            return list(self.fit.fixed.index).index(term)
        except ValueError:
            raise ModelSpecError(f"{term!r} is not a fixed effect of the model") from None

    def _label(self, term: str, lv: str | None) -> str:
        if lv is not None:
            return f"{term} = {lv} (vs {self.spec.levels[term][0]})"
        return term

    # ------------------------------------------------------ trajectories
    def _design_rows(self, values: dict[str, Any], times: np.ndarray) -> np.ndarray:
        return _prediction.design_rows(self, values, times)

    def _all_terms(self) -> list[str]:
        return _prediction.model_terms(self.spec)

    def _times(self, times: Any) -> np.ndarray:
        return _prediction.time_grid(self, times)

    def _at(self, at: Mapping[str, Any] | None) -> dict[str, Any]:
        return _prediction.model_values(self.spec, at)

    def trajectories(
        self,
        by: str | None = None,
        *,
        times: Any = None,
        at: dict[str, Any] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Model-implied mean trajectories with confidence bands.

        Parameters
        ----------
        by : str, optional
            A predictor term: a categorical one gives one trajectory per level;
            a continuous one three, at the mean - 1 SD, the mean and the mean
            + 1 SD over clients (labelled ``"-1 SD"``, ``"mean"``, ``"+1 SD"``).
        times : array_like, optional
            Values of ``time`` (sessions since the first, whatever the model's
            ``time_method``: they are coded like the model data, e.g. as
            ``log(1 + time)``); 0 to the largest observed by default.
        at : dict, optional
            Values of other predictors on the data scale (uncentred). Unset
            continuous predictors are held at their mean (0 after centring;
            within-person parts at 0, the client's own mean); unset categorical
            ones are averaged over their levels weighted by their share of
            clients.
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        DataFrame
            ``[by], time, estimate, se, ci_low, ci_high``;
            ``attrs["scoring_policy"]`` records :attr:`scoring_policy`.

        Notes
        -----
        The estimate is :math:`x'\\hat\\beta` with :math:`SE = \\sqrt{x' V x}`,
        :math:`V` the covariance of the fixed effects (Kenward-Roger adjusted
        when the model's ``ddf`` is ``"kenward-roger"``); the band is
        :math:`x'\\hat\\beta \\pm t_{df} SE` with the Satterthwaite (or
        Kenward-Roger) df of that linear combination (as ``lmerTest::contest``). It is a band for
        the population mean, not for individual clients (see
        :func:`expected_change`).
        """
        level = check_level(level)
        t = self._times(times)
        base = self._at(at)
        if by is None:
            groups: list[tuple[Any, dict[str, Any]]] = [(None, base)]
        elif by not in self._all_terms():
            raise ModelSpecError(f"by: {by!r} is not a model term; use {self._all_terms()}")
        elif self.spec.kinds.get(by) == "categorical":
            groups = [(lv, {**base, by: lv}) for lv in self.spec.levels[by]]
        else:
            sd = self.spec.sds[by]
            groups = [
                (lab, {**base, by: k * sd}) for lab, k in zip(SD_LABELS, (-1, 0, 1), strict=True)
            ]
        frames = []
        for label, values in groups:
            X = self._design_rows(values, t)
            res = self.fit.contrast(X, level=level, ddf=self.ddf)
            part = pd.DataFrame({"time": t})
            if by is not None:
                part.insert(0, by, label)
            for col in ("estimate", "se", "ci_low", "ci_high"):
                part[col] = res[col].to_numpy()
            frames.append(part)
        out = pd.concat(frames, ignore_index=True)
        if by is not None:
            levels = [g[0] for g in groups]
            out[by] = pd.Categorical(out[by], categories=levels, ordered=True)
        return state_policy(out, self.scoring_policy)

    # -------------------------------------------------------- moderation
    def moderation(
        self, *, level: float = 0.95, weights: Literal["proportional", "equal"] = "proportional"
    ) -> dict[str, pd.DataFrame]:
        """Tests of whether each predictor's time effect differs across moderator levels.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the simple slopes.
        weights : {"proportional", "equal"}, default "proportional"
            With two or more moderators, how a simple slope at one moderator's
            level is averaged over the levels of the others: by their shares
            of the analysed clients (the clients in :attr:`data`), or equally
            (``emmeans``' default). Ignored with a single moderator.

        Returns
        -------
        dict of DataFrame
            Each records :attr:`scoring_policy` in ``attrs["scoring_policy"]``.
            ``"tests"``: one row per moderator and predictor: ``moderator,
            predictor, num_df, den_df, f, p`` (F test, with the model's ``ddf``, that all
            predictor x time x moderator terms are zero, as
            ``lmerTest::contest(joint = TRUE)``). ``"simple_slopes"``: one row
            per moderator, predictor (coded column) and moderator level:
            ``moderator, predictor, level, averaged_over`` (the other
            moderators, comma-separated, or ``"none"``), ``weights``
            (``"proportional"``, ``"equal"`` or ``"none"``), ``estimate, se,
            df, t, p, ci_low, ci_high``: the predictor's time effect in that
            level. ``"level_weights"``: the weights used to average over the
            other moderators, one row per moderator and level: ``moderator,
            level, weight`` (empty with a single moderator). With
            ``time_method="piecewise"`` each phase has its own slope, so tests and
            simple slopes have one row per phase too, named in a ``time_term`` column
            after ``predictor`` (``time_p1``, ``time_p2``, ...); with ``"log"`` the
            slopes are per unit of ``log(1 + sessions since the first)``.

        Raises
        ------
        ModelSpecError
            When the model has no moderators.
        DataValidationError
            When ``weights`` or ``level`` is not one of the allowed values.

        Notes
        -----
        The simple slope (Aiken & West, 1991) of predictor :math:`x` at level
        :math:`l` of moderator :math:`m`, averaged over the levels :math:`j`
        of each other moderator :math:`k` with weights :math:`w_{kj}`
        (summing to 1 over :math:`j`), is the contrast

        .. math::

            \\theta_{x,m=l} = \\beta_{t:x} + \\beta_{t:x:m_l}
                + \\sum_{k \\ne m} \\sum_j w_{kj} \\beta_{t:x:k_j}

        with :math:`\\beta_{t:x:m_l} = 0` at reference levels. It is tested
        as :math:`L'\\hat\\beta` with :math:`SE = \\sqrt{L' V L}` and the
        Satterthwaite df of :math:`L`: the difference in the time slope per
        unit of :math:`x` that ``summary(pairs(emmeans::emtrends(fit, ~ x | m,
        var = "time", at = list(x = c(0, 1)), weights = w), reverse = TRUE))``
        reports (``weights = "equal"``, or ``"proportional"`` when every client
        has the same number of rows, ``emmeans`` counting rows rather than
        clients). Proportional weights count each analysed client once, at
        the moderator level of its first analysed session. With one moderator
        the sum is empty: the slope is that of a refit with :math:`l` as the
        reference level.

        References
        ----------
        Aiken, L. S., & West, S. G. (1991). *Multiple regression: Testing and
        interpreting interactions*. Sage.

        Lenth, R. V. (2024). *emmeans: Estimated marginal means, aka
        least-squares means* (R package). https://CRAN.R-project.org/package=emmeans

        Examples
        --------
        >>> import engagestats as es
        >>> from engagestats.analyses import growth_model
        >>> study = es.simulate_study(n_therapists=8, clients_per_therapist=8, seed=1)
        >>> m = growth_model(study, predictors={"autonomous": "srq_autonomous"},
        ...                  moderators=["modality", "format"])
        >>> mod = m.moderation(weights="equal")
        >>> mod["tests"][["moderator", "predictor", "num_df"]].to_numpy().tolist()
        [['modality', 'autonomous', 3], ['format', 'autonomous', 1]]
        >>> s = mod["simple_slopes"]
        >>> s.loc[s["moderator"] == "format", ["level", "averaged_over", "weights"]]
                level averaged_over weights
        4       group      modality   equal
        5  individual      modality   equal
        """
        out = _moderation.moderation(self, level=level, weights=weights)
        return {name: state_policy(t, self.scoring_policy) for name, t in out.items()}

    # ------------------------------------------------------------- tables
    def table(
        self,
        style: Literal["apa"] = "apa",
        format: Literal["dataframe", "markdown", "latex", "html"] = "dataframe",
    ) -> pd.DataFrame | str:
        """A publication table: fixed effects, variance components, ICC, R2 and Ns.

        Parameters
        ----------
        style : {"apa"}
            APA style (7th ed.): b, SE, df, t, p, 95% CI.
        format : {"dataframe", "markdown", "latex", "html"}
            A tidy DataFrame (``section, term, estimate, se, df, t, p,
            ci_low, ci_high``; variance, ICC, R2 and N rows use ``estimate``
            only), or the formatted table as text.

        Returns
        -------
        DataFrame or str
            The DataFrame records the scoring policy in
            ``attrs["scoring_policy"]``; the text formats end with a note
            stating it.
        """
        out = _tables.model_table(self, style=style, format=format)
        if isinstance(out, pd.DataFrame):
            return state_policy(out, self.scoring_policy)
        return _tables.with_policy_note(out, format, self.scoring_policy)

    def summary(self) -> str:
        """The formula, the exclusions and the fit summary as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        scale = self.time_scale
        time = "" if scale.method == "session" else f"time: {scale.description}\n"
        return (
            f"Growth model of {self.outcome}\nformula: {self.formula}\n{time}"
            f"{_tables.policy_text(self.scoring_policy)}\n"
            f"rows excluded: {excl}\n\n{self.fit.summary()}"
        )

    def __repr__(self) -> str:
        n = self.fit.ngroups
        return f"OutcomeModel: {self.formula}\n  {self.fit.nobs} observations, " + ", ".join(
            f"{v} {k}" for k, v in n.items()
        )

    def _repr_html_(self) -> str:
        excl = self.exclusions.to_html(index=False) if len(self.exclusions) else "<p>none</p>"
        return (
            f"<div><strong>Growth model of {html.escape(self.outcome)}</strong><br>"
            f"<code>{html.escape(self.formula)}</code>"
            f"{self.table(format='html')}"
            f"<p>Rows excluded:</p>{excl}</div>"
        )
