"""The :class:`OutcomeModel`: a fitted growth model with effects, trajectories and tables."""

from __future__ import annotations

import html
import itertools
import re
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._validate import check_level
from ..errors import ModelSpecError
from ..models.inference import check_ddf
from . import _moderation, _tables
from ._estimands import estimand
from ._interpretation import interpret
from ._panel import fixed_rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..models import LmmResult
    from ._panel import PanelSpec

__all__ = ["OutcomeModel"]

SD_LABELS = ("-1 SD", "mean", "+1 SD")

# A ":" of an interaction, i.e. one outside R's backticks ("time:`a:b`" has one).
_INTERACTION = re.compile(r":(?=(?:[^`]*`[^`]*`)*[^`]*$)")


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
    def formula(self) -> str:
        """The lme4 formula that was fitted."""
        return self.fit.formula

    @property
    def outcome(self) -> str:
        """The outcome column."""
        return self.spec.outcome

    @property
    def slope_terms(self) -> list[str]:
        """Terms interacting with time: intake predictors and between parts."""
        return list(self.spec.predictors) + [f"{v}_between" for v in self.spec.time_varying]

    def _names(self) -> dict[frozenset[str], str]:
        """Coefficient names keyed by the set of their plain parts.

        R writes a non-syntactic column name in backticks (``time:`my var```); a column
        name holds no backtick, so the key drops them: ``{"time", "my var"}``.
        """
        return {
            frozenset(p.replace("`", "") for p in _INTERACTION.split(n)): n
            for n in self.fit.fixed.index
        }

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
            One row per effect: ``term`` (lme4 name), ``effect`` (what it
            is), ``estimand`` (between or within clients, intake level or
            change, and total or controlled direct effect: see Notes),
            ``estimate, se, df, t, p, ci_low, ci_high`` (per unit of the
            predictor, as in ``fit.fixed``), ``sd`` (the predictor's SD over
            clients, or of the within part over sessions; NaN for time and
            categorical levels) and ``interpretation`` (per SD for continuous
            predictors). Moderation terms are in :meth:`moderation`.

        Notes
        -----
        For an outcome where higher is worse, a negative time slope (or a
        negative interaction with time) is improvement (faster improvement).

        ``estimand``: an intake predictor's effect is a *total* effect (given the
        other intake covariates) when the model holds intake covariates only, and
        a *controlled direct* effect when it also holds post-intake variables
        such as the alliance, a possible mediator (VanderWeele 2015). Within
        parts are within-client prospective associations (Curran & Bauer 2011).
        None is causal without further assumptions.
        """
        level = check_level(level)
        names = self._names()
        # rows hold plain names (for the estimands and sentences), terms the fit's names
        # (R's backticks around non-syntactic column names: "`my var`", "time:`my var`")
        rows: list[tuple[str, str, float, str]] = []  # term, effect, sd, kind
        terms: list[str] = []

        def add(plain: str, name: str, effect: str, sd: float, kind: str) -> None:
            rows.append((plain, effect, sd, kind))
            terms.append(name)

        add("time", "time", "change per session (average client)", np.nan, "time")
        for term in self.slope_terms:
            for piece, lv in self._coded(term):
                sd = np.nan if lv is not None else self.spec.sds.get(term, np.nan)
                label = self._label(term, lv)
                add(
                    piece,
                    names.get(frozenset((piece,)), piece),
                    f"{label}: level at intake",
                    sd,
                    "level",
                )
                name = names.get(frozenset(("time", piece)))
                if name is not None:
                    add(f"time:{piece}", name, f"{label}: change per session", sd, "slope")
        for v in self.spec.time_varying:
            w = self.spec.within_name(v)
            when = {0: "same session", 1: "previous session"}.get(
                self.spec.lag, f"{self.spec.lag} sessions earlier"
            )
            given = f", given the previous {self.outcome}" if self.spec.prior_name else ""
            add(
                w,
                names.get(frozenset((w,)), w),
                f"{v} within client, {when}{given}",
                self.spec.sds[w],
                "within",
            )
        L = pd.DataFrame(
            np.eye(len(self.fit.fixed))[[self._index(t) for t in terms]],
            columns=self.fit.fixed.index,
            index=terms,
        )
        table = self.fit.contrast(L, level=level, ddf=self.ddf).reset_index(drop=True)
        out = pd.DataFrame(
            {
                "term": terms,
                "effect": [r[1] for r in rows],
                "estimand": [estimand(self.spec, r[0].removeprefix("time:"), r[3]) for r in rows],
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
        return out

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
        """Fixed-effects rows at ``times``, averaging over unset categorical terms."""
        cats = [
            t
            for t in [*self.spec.predictors, *self.spec.moderators]
            if self.spec.kinds.get(t) == "categorical" and t not in values
        ]
        combos = list(itertools.product(*[self.spec.levels[c] for c in cats])) or [()]
        X: Any = 0.0  # a float, then the weighted sum of design rows
        for combo in combos:
            w = float(np.prod([self.spec.shares[c][lv] for c, lv in zip(cats, combo, strict=True)]))
            frame = pd.DataFrame({"time": times})
            for term in self._all_terms():
                if term in values:
                    frame[term] = values[term]
                elif term in cats:
                    frame[term] = combo[cats.index(term)]
                else:
                    frame[term] = 0.0
                if self.spec.kinds.get(term) == "categorical":
                    frame[term] = pd.Categorical(frame[term], categories=self.spec.levels[term])
            X = X + w * fixed_rows(self.fit, frame)
        return np.asarray(X)

    def _all_terms(self) -> list[str]:
        out = [*self.spec.predictors, *self.spec.moderators]
        for v in self.spec.time_varying:
            out += [f"{v}_between", self.spec.within_name(v)]
        return out + list(getattr(self.spec, "extra_terms", []))

    def _times(self, times: Any) -> np.ndarray:
        if times is None:
            return np.arange(0.0, float(np.floor(self.data["time"].max())) + 1.0)
        return np.asarray(times, dtype=float).ravel()

    def _at(self, at: Mapping[str, Any] | None) -> dict[str, Any]:
        """``at`` values on the data scale -> model scale."""
        out: dict[str, Any] = {}
        for term, value in (at or {}).items():
            if term not in self._all_terms():
                raise ModelSpecError(f"at: {term!r} is not a model term; use {self._all_terms()}")
            if self.spec.kinds.get(term) == "categorical":
                levels = self.spec.levels[term]
                if str(value) not in levels:
                    raise ModelSpecError(
                        f"at: {value!r} is not a level of {term!r} in the model; its levels are "
                        f"{levels} (a level whose rows were all excluded is not in the model)"
                    )
                out[term] = str(value)
            else:
                out[term] = float(value) - self.spec.centres.get(term, 0.0)
        return out

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
            Values of ``time`` (sessions since the first); 0 to the largest
            observed by default.
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
            ``[by], time, estimate, se, ci_low, ci_high``.

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
        return out

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
            level, weight`` (empty with a single moderator).

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
        return _moderation.moderation(self, level=level, weights=weights)

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
        """
        return _tables.model_table(self, style=style, format=format)

    def summary(self) -> str:
        """The formula, the exclusions and the fit summary as text."""
        excl = "none" if self.exclusions.empty else "\n" + self.exclusions.to_string(index=False)
        return (
            f"Growth model of {self.outcome}\nformula: {self.formula}\n"
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
            f"{_tables.model_table(self, format='html')}"
            f"<p>Rows excluded:</p>{excl}</div>"
        )
