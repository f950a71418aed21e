"""Private: build the analysis panel of a growth model (scoring, coding, exclusions).

Also the helpers the analyses share: scoring a study's missing scores under its one policy
(:func:`scored_study`), term-name maps, the categorical test and exclusion counting.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .. import instruments, prep
from .._validate import as_table, require_columns
from ..errors import DataWarning, ModelSpecError
from ..models import newdata as _newdata
from ..scoring import PRORATE_80, ScoringPolicy, ensure_scores, policy_for
from ..study import Study
from ._time_scale import TimeScale

if TYPE_CHECKING:
    from ..models import LmmResult

__all__ = [
    "ADJUSTED_PREDICTORS",
    "ADJUSTED_TIME_VARYING",
    "EXCLUSION_COLUMNS",
    "PRORATION",
    "SCORING_POLICY",
    "Exclusions",
    "PanelSpec",
    "apply_spec",
    "fixed_rows",
    "is_categorical",
    "named_terms",
    "prepare",
    "scored_study",
    "with_sum_scales",
]

#: The default scoring policy of the analyses, the default :attr:`Study.scoring_policy
#: <engagestats.Study.scoring_policy>`. The analyses score a study's missing score columns
#: under the study's own policy (:func:`scored_study`); scores already present are used as
#: they are.
SCORING_POLICY: ScoringPolicy = PRORATE_80

#: Its proration rules, by instrument: the share of a (sub)scale's items that must be
#: answered; the score is then the mean of the answered items (times the number of items
#: for sum scores). Read-only; define another :class:`~engagestats.scoring.ScoringPolicy`
#: and score the study with it to use other rules.
PRORATION: Mapping[str, float] = MappingProxyType(dict(SCORING_POLICY.min_answered))

EXCLUSION_COLUMNS = ("reason", "n_rows", "n_clients")

#: Intake predictors of the covariate-adjusted growth model (term name -> column): the model
#: the ``analyse_*`` functions share, the default of ``binary_model`` and the model that
#: ``power_curve`` refits (the simulator's generating model).
ADJUSTED_PREDICTORS: Mapping[str, str] = MappingProxyType(
    {"autonomous": "srq_autonomous", "readiness": "urica_readiness"}
)
#: Time-varying predictor of the adjusted growth model (WAI-SR total, 12-60 sum scale).
ADJUSTED_TIME_VARYING: Mapping[str, str] = MappingProxyType({"alliance": "wai_sr_sum"})

#: Sum-scale versions of mean-scored totals that the models use: column -> (score, instrument).
#: ``wai_sr_sum`` is the WAI-SR total on its 12-60 sum scale (items x mean of the answered).
SUM_SCALES: dict[str, tuple[str, str]] = {"wai_sr_sum": ("wai_sr_total", "wai_sr")}


def with_sum_scales(panel: pd.DataFrame) -> pd.DataFrame:
    """Add the :data:`SUM_SCALES` columns whose score is present (in place; returned)."""
    for col, (total, name) in SUM_SCALES.items():
        if total in panel.columns and col not in panel.columns:
            panel[col] = float(instruments.resolve(name).n_items) * panel[total]
    return panel


def scored_study(study: Study, columns: Iterable[str]) -> Study:
    """``study`` with the missing score columns among ``columns`` scored under its policy.

    The policy is the study's own (:attr:`Study.scoring_policy
    <engagestats.Study.scoring_policy>`, :data:`SCORING_POLICY` unless set). Columns that
    are not scores (or cannot be scored) are left for the caller's column check.
    """
    wanted = [SUM_SCALES[c][0] if c in SUM_SCALES else c for c in columns]
    return ensure_scores(study, wanted, policy=policy_for(study), errors="ignore")


def fixed_rows(fit: LmmResult, frame: pd.DataFrame) -> np.ndarray:
    """Fixed-effects design rows of ``frame`` in the columns of ``fit`` (new-data prediction).

    The analyses' one read of the private ``LmmResult._fit`` (its design); it becomes
    ``fit.model_matrix(frame)`` once :class:`~engagestats.LmmResult` offers that.
    """
    return _newdata.new_fixed(fit._fit.design, frame)


def named_terms(arg: Sequence[str] | Mapping[str, str] | str | None) -> dict[str, str]:
    """Term name -> data column."""
    if arg is None:
        return {}
    if isinstance(arg, str):
        return {arg: arg}
    if isinstance(arg, Mapping):
        return {str(k): str(v) for k, v in arg.items()}
    return {str(c): str(c) for c in arg}


def is_categorical(s: pd.Series) -> bool:
    """Whether a predictor column is coded as categorical (text or a pandas Categorical)."""
    return not pd.api.types.is_numeric_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)


class Exclusions:
    """Rows left out of a fit, each counted once under the first reason that applies.

    ``drop(mask, reason)`` removes the rows of ``mask`` still kept and counts them (rows and
    distinct clients; rows again when there is no client column); :attr:`keep` is the mask
    of the rows left and :meth:`table` the ``reason, n_rows, n_clients`` table.
    """

    def __init__(
        self, frame: pd.DataFrame, client: str | None, counts: Iterable[tuple] = ()
    ) -> None:
        self.frame, self.client = frame, client
        self.keep = np.ones(len(frame), dtype=bool)
        self.counts: list[tuple[str, int, int]] = list(counts)

    def drop(self, mask: np.ndarray, reason: str) -> None:
        hit = self.keep & mask
        if hit.any():
            n = int(hit.sum())
            n_clients = int(self.frame.loc[hit, self.client].nunique()) if self.client else n
            self.counts.append((reason, n, n_clients))
        self.keep &= ~mask

    def table(self) -> pd.DataFrame:
        excl = pd.DataFrame(self.counts, columns=list(EXCLUSION_COLUMNS))
        return excl.astype({"n_rows": "int64", "n_clients": "int64"})


@dataclass
class PanelSpec:
    """Everything needed to code new data the way the model data were coded."""

    outcome: str
    session: str
    client: str
    therapist: str | None
    predictors: dict[str, str]
    time_varying: dict[str, str]
    moderators: dict[str, str]
    center: bool
    lag: int
    first_lag: str
    time_method: Literal["session", "log", "piecewise"]  # growth_model's time coding (TimeScale)
    prior_outcome: str = "none"  # none / lagged / within: the outcome at the previous session
    detrend: bool = False  # within parts: residuals from the client's own line in time
    between: str = "mean"  # between parts: client mean over all sessions, or "early"
    early_sessions: int = 3  # with between="early": the client's first k sessions
    kinds: dict[str, str] = field(default_factory=dict)  # term -> continuous/categorical
    centres: dict[str, float] = field(default_factory=dict)  # term -> subtracted constant
    sds: dict[str, float] = field(default_factory=dict)  # term -> SD over clients (model scale)
    levels: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  # level shares (clients)
    knots: tuple[float, ...] = ()  # time_method="piecewise": knots, sessions since the first
    # the study's scoring policy (None for a DataFrame: its scores are used as given)
    scoring_policy: ScoringPolicy | None = None

    @property
    def time_scale(self) -> TimeScale:
        """The time coding (``time_method`` and ``knots``)."""
        return TimeScale(self.time_method, tuple(self.knots))

    def within_name(self, name: str) -> str:
        if self.lag == 0:
            return f"{name}_within"
        return f"{name}_within_lag" if self.lag == 1 else f"{name}_within_lag{self.lag}"

    @property
    def prior_name(self) -> str | None:
        """The prior-outcome term (``<outcome>_prior``, ``<outcome>_prior_within``) or None."""
        if self.prior_outcome == "none":
            return None
        return f"{self.outcome}_prior" + ("_within" if self.prior_outcome == "within" else "")

    @property
    def extra_terms(self) -> list[str]:
        """Main-effect terms beyond the predictors' (the prior outcome), set to 0 in new data."""
        return [self.prior_name] if self.prior_name else []


def prepare(
    data: Study | pd.DataFrame, spec: PanelSpec
) -> tuple[pd.DataFrame, pd.DataFrame, PanelSpec]:
    """Build the model frame, the exclusions table and the fitted coding constants."""
    counts: list[tuple[str, int, int]] = []
    needed = [spec.outcome, spec.session, spec.client]
    needed += list(spec.predictors.values()) + list(spec.time_varying.values())
    needed += list(spec.moderators.values())
    if isinstance(data, Study):
        spec.scoring_policy = policy_for(data)
        panel = with_sum_scales(scored_study(data, needed).panel())
        if "attended" in panel.columns:
            missed = panel["attended"] != 1
            if missed.any():
                counts.append(
                    (
                        "missed session (no questionnaires)",
                        int(missed.sum()),
                        int(panel.loc[missed, spec.client].nunique()),
                    )
                )
            panel = panel.loc[~missed].reset_index(drop=True)
    else:
        panel = as_table(data, "sessions").reset_index(drop=True)
    require_columns(panel, needed, table="panel", role="model")
    if spec.therapist is not None and spec.therapist not in panel.columns:
        spec.therapist = None
    # 1. provisional coding on every row: term kinds, and which rows lack a value
    frame, spec = apply_spec(panel, spec, fit=True)
    # 2. the rows that are analysed (every other row counted once, under its first reason)
    keep, excl = _exclude(frame, spec, counts)
    # 3. the coding constants from the analysed rows/clients only, then the final coding
    #    of the whole panel (person means and lags still see every observed session)
    _refit(frame.loc[keep], panel.loc[keep], spec)
    _code_terms(frame, panel, spec)  # time, person means and lags do not depend on them
    # drop apply_spec's helper columns by name: a data or term name may begin with "_"
    helpers = [f"_{v}_between_mean" for v in spec.time_varying]
    helpers += [f"_{spec.within_name(v)}_first" for v in spec.time_varying]
    helpers += [f"_{spec.prior_name}_raw"] if spec.prior_name else []
    out = frame.loc[keep].drop(columns=[c for c in helpers if c in frame.columns])
    return out.reset_index(drop=True), excl, spec


def apply_spec(panel: pd.DataFrame, spec: PanelSpec, *, fit: bool) -> tuple[pd.DataFrame, Any]:
    """Code time, centre predictors and split/lag time-varying ones.

    With ``fit=True`` the centring constants are estimated (and stored in
    ``spec``); otherwise the stored ones are used (new data).
    """
    # time = sessions since the first (ordering, lags, detrending), plus the model's time terms
    frame = spec.time_scale.add(panel, session=spec.session, client=spec.client)
    clients = frame.drop_duplicates(spec.client)
    for name, col in {**spec.predictors, **spec.moderators}.items():
        values = frame[col]
        if fit:
            kind = "categorical" if is_categorical(values) else "continuous"
            spec.kinds[name] = kind
        if spec.kinds[name] == "categorical":
            if fit:
                cat = values.astype("category")
                cats = [str(c) for c in cat.cat.categories if (cat == c).any()]
                spec.levels[name] = cats
                share = clients[col].astype(str).value_counts(normalize=True)
                spec.shares[name] = {c: float(share.get(c, 0.0)) for c in cats}
        elif fit:
            per_client = clients[col].astype(float)
            spec.centres[name] = float(per_client.mean()) if spec.center else 0.0
            spec.sds[name] = float(per_client.std(ddof=1))
        frame[name] = np.nan  # placed here; coded by _code_terms
    if spec.between == "early":
        early = frame.groupby(spec.client)["time"].rank(method="first") <= spec.early_sessions
    for name, col in spec.time_varying.items():
        values = frame[col].astype(float)
        person_mean = values.groupby(frame[spec.client]).transform("mean")
        between = f"{name}_between"
        if spec.between == "early":  # mean over the client's first k sessions
            level = values.where(early.to_numpy())
            between_mean = level.groupby(frame[spec.client]).transform("mean")
        else:
            level, between_mean = values, person_mean
        if fit:
            means = level.groupby(frame[spec.client]).mean()
            spec.kinds[between] = "continuous"
            spec.centres[between] = float(means.mean()) if spec.center else 0.0
            spec.sds[between] = float(means.std(ddof=1))
        frame[between] = np.nan  # placed here; coded by _code_terms
        frame[f"_{between}_mean"] = between_mean
        within = spec.within_name(name)
        if spec.detrend:
            dev = prep.person_residuals(values, frame["time"], frame[spec.client])
        else:
            dev = values - person_mean
        dev = dev.rename(within)
        tmp = pd.DataFrame({spec.client: frame[spec.client], "_t": frame["time"], within: dev})
        if spec.lag > 0:
            tmp = prep.lag(tmp, within, client=spec.client, session="_t", k=spec.lag, suffix="_l")
            lagged = tmp[f"{within}_l"]
            first = frame.groupby(spec.client)["time"].rank(method="first") <= spec.lag
            frame[within] = lagged
            frame[f"_{within}_first"] = first.to_numpy()
            if spec.first_lag == "zero":
                frame.loc[first.to_numpy(), within] = 0.0
        else:
            frame[within] = dev
        if fit:
            spec.kinds[within] = "continuous"
            spec.centres[within] = 0.0
            spec.sds[within] = float(frame[within].std(ddof=1))
    prior = spec.prior_name
    if prior is not None:
        y = frame[spec.outcome].astype(float)
        tmp = pd.DataFrame({spec.client: frame[spec.client], "_t": frame["time"], "_y": y})
        tmp = prep.lag(tmp, "_y", client=spec.client, session="_t", k=1, suffix="_l")
        raw = tmp["_y_l"]
        if spec.prior_outcome == "within":
            if spec.detrend:  # the previous residual from the client's own outcome line
                res = prep.person_residuals(y, frame["time"], frame[spec.client])
                tmp["_r"] = res.to_numpy()
                raw = prep.lag(tmp, "_r", client=spec.client, session="_t", k=1, suffix="_l")
                raw = raw["_r_l"]
            else:
                raw = raw - y.groupby(frame[spec.client]).transform("mean")
        if fit:
            spec.kinds[prior] = "continuous"
            spec.centres[prior] = float(raw.mean()) if spec.prior_outcome == "lagged" else 0.0
            spec.sds[prior] = float(raw.std(ddof=1))
            frame[f"_{prior}_raw"] = raw.to_numpy()
        else:  # new data (bands, trajectories): the prior outcome at its centre
            frame[f"_{prior}_raw"] = spec.centres[prior]
        frame[prior] = np.nan  # coded by _code_terms
    _code_terms(frame, panel, spec)
    return frame, spec


def _code_terms(frame: pd.DataFrame, panel: pd.DataFrame, spec: PanelSpec) -> None:
    """Write the coded terms that depend on ``spec``'s constants into ``frame`` (in place).

    Intake predictors and moderators are centred (or coded as categoricals with the
    model's levels) from the raw columns of ``panel`` (a term may share its column's
    name), and between parts are the person means minus their centre.
    """
    for name, col in {**spec.predictors, **spec.moderators}.items():
        if spec.kinds[name] == "categorical":
            raw = panel[col].astype(object)
            text = raw.where(raw.isna(), raw.astype(str))
            # a level not in the model (new data, or one with no analysed rows) is missing
            text = text.where(text.isin(spec.levels[name]))
            frame[name] = pd.Categorical(text, categories=spec.levels[name])
        else:
            frame[name] = panel[col].astype(float) - spec.centres[name]
    for name in spec.time_varying:
        between = f"{name}_between"
        frame[between] = frame[f"_{between}_mean"] - spec.centres[between]
    if spec.prior_name is not None:
        frame[spec.prior_name] = frame[f"_{spec.prior_name}_raw"] - spec.centres[spec.prior_name]


def _exclude(
    frame: pd.DataFrame, spec: PanelSpec, counts: list[tuple[str, int, int]]
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows kept for the fit (boolean mask) and the exclusions table."""
    ex = Exclusions(frame, spec.client, counts)
    ex.drop(frame[spec.outcome].isna().to_numpy(), f"missing outcome {spec.outcome!r}")
    ex.drop(frame[spec.session].isna().to_numpy(), f"missing time {spec.session!r}")
    for name, col in spec.predictors.items():
        ex.drop(frame[name].isna().to_numpy(), f"missing intake predictor {col!r}")
    for name, col in spec.moderators.items():
        ex.drop(frame[name].isna().to_numpy(), f"missing moderator {col!r}")
    for name, col in spec.time_varying.items():
        within = spec.within_name(name)
        if spec.lag > 0:
            first = frame[f"_{within}_first"].to_numpy(dtype=bool)
            ex.drop(
                first & frame[within].isna().to_numpy(),
                f"no previous session for lagged {col!r} (client's first session)",
            )
        ex.drop(frame[f"{name}_between"].isna().to_numpy(), f"no scorable {col!r} for the client")
        ex.drop(frame[within].isna().to_numpy(), f"missing lagged predictor {col!r}")
    if spec.prior_name is not None:
        ex.drop(
            frame[spec.prior_name].isna().to_numpy(),
            f"no previous outcome {spec.outcome!r} for the prior-outcome term",
        )
    if spec.therapist is not None:
        ex.drop(frame[spec.therapist].isna().to_numpy(), f"missing {spec.therapist!r}")
    excl = ex.table()
    if not ex.keep.any():
        raise ModelSpecError("no rows left to fit after the exclusions:\n" + excl.to_string())
    return ex.keep, excl


def _refit(kept: pd.DataFrame, raw: pd.DataFrame, spec: PanelSpec) -> None:
    """Re-estimate the coding constants of ``spec`` from the analysed rows.

    ``kept`` is the provisionally coded frame and ``raw`` the input panel, both
    restricted to the rows that are fitted (same order; a term may share its
    column's name, so raw values are read from ``raw``).
    Centres and SDs of intake predictors and of the between parts count each analysed
    client once; categorical levels keep only those with analysed rows (in their
    original order, so the reference is the first remaining one) and their shares are
    over analysed clients. A level the user declared (a pandas ``Categorical`` column)
    that loses all its rows to the exclusions gives a :class:`DataWarning`; a level
    merely read from the data is dropped silently (its rows are in the exclusions).
    """
    first = ~kept[spec.client].duplicated().to_numpy()
    clients, raw_clients = kept.loc[first], raw.loc[first]
    for name, col in {**spec.predictors, **spec.moderators}.items():
        if spec.kinds[name] == "categorical":
            present = set(kept[name].astype(object).dropna())
            levels = [lv for lv in spec.levels[name] if lv in present]
            lost = [lv for lv in spec.levels[name] if lv not in present]
            if lost and isinstance(raw[col].dtype, pd.CategoricalDtype):
                warnings.warn(
                    f"level(s) {lost} of {col!r} (term {name!r}) have no analysed rows after "
                    f"the exclusions and are left out of the model; the reference level is "
                    f"{levels[0]!r}",
                    DataWarning,
                    stacklevel=4,
                )
            if len(levels) < 2:
                warnings.warn(
                    f"{col!r} (term {name!r}) has a single level {levels} in the analysed rows: "
                    "its effect cannot be estimated and its terms drop out of the model",
                    DataWarning,
                    stacklevel=4,
                )
            spec.levels[name] = levels
            share = clients[name].astype(object).value_counts(normalize=True)
            spec.shares[name] = {lv: float(share.get(lv, 0.0)) for lv in levels}
        else:
            per_client = raw_clients[col].astype(float)
            spec.centres[name] = float(per_client.mean()) if spec.center else 0.0
            spec.sds[name] = float(per_client.std(ddof=1))
    for name in spec.time_varying:
        between = f"{name}_between"
        means = clients[f"_{between}_mean"].astype(float)
        spec.centres[between] = float(means.mean()) if spec.center else 0.0
        spec.sds[between] = float(means.std(ddof=1))
        spec.sds[spec.within_name(name)] = float(kept[spec.within_name(name)].std(ddof=1))
    prior = spec.prior_name
    if prior is not None:
        raw = kept[f"_{prior}_raw"].astype(float)
        spec.centres[prior] = float(raw.mean()) if spec.prior_outcome == "lagged" else 0.0
        spec.sds[prior] = float(raw.std(ddof=1))
