"""Private: build the analysis panel of a growth model (scoring, coding, exclusions)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import instruments, prep
from ..errors import DataValidationError, DataWarning, ModelSpecError
from ..scoring import score
from ..study import Study, item_blocks

__all__ = ["PRORATION", "PanelSpec", "apply_spec", "prepare", "score_study"]

#: Proration rule used when a Study is scored for an analysis: the share of a
#: (sub)scale's items that must be answered; the score is then the mean of the
#: answered items (times the number of items for sum scores).
PRORATION: dict[str, float] = {
    "phq9": 0.8,
    "gad7": 0.8,
    "wai_sr": 0.8,
    "urica": 0.8,
    "srq": 0.8,
}

EXCLUSION_COLUMNS = ("reason", "n_rows", "n_clients")


def _instrument(name: str) -> Any:
    if name == "srq":
        return instruments.example_srq()
    return instruments.get(name)


def score_study(study: Study) -> Study:
    """Score every known questionnaire of ``study`` with the :data:`PRORATION` rules."""
    present = set(item_blocks(study.clients.columns)) | set(item_blocks(study.sessions.columns))
    insts = []
    for name, share in PRORATION.items():
        if name in present:
            insts.append(replace(_instrument(name), min_answered=share))
    return score(study, insts) if insts else study


def _named(arg: Sequence[str] | Mapping[str, str] | str | None) -> dict[str, str]:
    """Term name -> data column."""
    if arg is None:
        return {}
    if isinstance(arg, str):
        return {arg: arg}
    if isinstance(arg, Mapping):
        return {str(k): str(v) for k, v in arg.items()}
    return {str(c): str(c) for c in arg}


@dataclass
class PanelSpec:
    """Everything needed to code new data the way the model data were coded."""

    outcome: str
    time: str
    client: str
    therapist: str | None
    predictors: dict[str, str]
    time_varying: dict[str, str]
    moderators: dict[str, str]
    center: bool
    lag: int
    first_lag: str
    time_method: str
    kinds: dict[str, str] = field(default_factory=dict)  # term -> continuous/categorical
    centres: dict[str, float] = field(default_factory=dict)  # term -> subtracted constant
    sds: dict[str, float] = field(default_factory=dict)  # term -> SD over clients (model scale)
    levels: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  # level shares (clients)

    def within_name(self, name: str) -> str:
        if self.lag == 0:
            return f"{name}_within"
        return f"{name}_within_lag" if self.lag == 1 else f"{name}_within_lag{self.lag}"


def _missing_columns(data: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataValidationError(
            [
                {
                    "file": "panel",
                    "row": None,
                    "column": c,
                    "value": None,
                    "problem": f"{what} column {c!r} is not in the data",
                }
                for c in missing
            ]
        )


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)


def prepare(
    source: Study | pd.DataFrame, spec: PanelSpec
) -> tuple[pd.DataFrame, pd.DataFrame, PanelSpec]:
    """Build the model frame, the exclusions table and the fitted coding constants."""
    counts: list[tuple[str, int, int]] = []
    if isinstance(source, Study):
        scored = score_study(source)
        panel = scored.panel()
        if "wai_sr_total" in panel.columns and "wai_sr_sum" not in panel.columns:
            # WAI-SR total on the 12-60 sum scale (12 x mean of the answered items)
            panel["wai_sr_sum"] = 12.0 * panel["wai_sr_total"]
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
    elif isinstance(source, pd.DataFrame):
        panel = source.reset_index(drop=True)
    else:
        raise TypeError(f"expected a Study or a DataFrame, got {type(source).__name__}")
    needed = [spec.outcome, spec.time, spec.client]
    needed += list(spec.predictors.values()) + list(spec.time_varying.values())
    needed += list(spec.moderators.values())
    _missing_columns(panel, needed, "model")
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
    out = frame.loc[keep].drop(columns=[c for c in frame.columns if c.startswith("_")])
    return out.reset_index(drop=True), excl, spec


def apply_spec(panel: pd.DataFrame, spec: PanelSpec, *, fit: bool) -> tuple[pd.DataFrame, Any]:
    """Code time, centre predictors and split/lag time-varying ones.

    With ``fit=True`` the centring constants are estimated (and stored in
    ``spec``); otherwise the stored ones are used (new data).
    """
    frame = prep.time_code(panel, time=spec.time, by=spec.client, method=spec.time_method)
    clients = frame.drop_duplicates(spec.client)
    for name, col in {**spec.predictors, **spec.moderators}.items():
        values = frame[col]
        if fit:
            kind = "categorical" if _is_categorical(values) else "continuous"
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
    for name, col in spec.time_varying.items():
        values = frame[col].astype(float)
        person_mean = values.groupby(frame[spec.client]).transform("mean")
        between = f"{name}_between"
        if fit:
            means = values.groupby(frame[spec.client]).mean()
            spec.kinds[between] = "continuous"
            spec.centres[between] = float(means.mean()) if spec.center else 0.0
            spec.sds[between] = float(means.std(ddof=1))
        frame[between] = np.nan  # placed here; coded by _code_terms
        frame[f"_{between}_mean"] = person_mean
        within = spec.within_name(name)
        dev = (values - person_mean).rename(within)
        tmp = pd.DataFrame({spec.client: frame[spec.client], "_t": frame["time"], within: dev})
        if spec.lag > 0:
            tmp = prep.lag(tmp, within, by=spec.client, order="_t", k=spec.lag, suffix="_l")
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


def _exclude(
    frame: pd.DataFrame, spec: PanelSpec, counts: list[tuple[str, int, int]]
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows kept for the fit (boolean mask) and the exclusions table."""
    keep = np.ones(len(frame), dtype=bool)

    def drop(mask: np.ndarray, reason: str) -> None:
        nonlocal keep
        hit = keep & mask
        if hit.any():
            counts.append((reason, int(hit.sum()), int(frame.loc[hit, spec.client].nunique())))
        keep &= ~mask

    drop(frame[spec.outcome].isna().to_numpy(), f"missing outcome {spec.outcome!r}")
    drop(frame[spec.time].isna().to_numpy(), f"missing time {spec.time!r}")
    for name, col in spec.predictors.items():
        drop(frame[name].isna().to_numpy(), f"missing intake predictor {col!r}")
    for name, col in spec.moderators.items():
        drop(frame[name].isna().to_numpy(), f"missing moderator {col!r}")
    for name, col in spec.time_varying.items():
        within = spec.within_name(name)
        if spec.lag > 0:
            first = frame[f"_{within}_first"].to_numpy(dtype=bool)
            drop(
                first & frame[within].isna().to_numpy(),
                f"no previous session for lagged {col!r} (client's first session)",
            )
        drop(frame[f"{name}_between"].isna().to_numpy(), f"no scorable {col!r} for the client")
        drop(frame[within].isna().to_numpy(), f"missing lagged predictor {col!r}")
    if spec.therapist is not None:
        drop(frame[spec.therapist].isna().to_numpy(), f"missing {spec.therapist!r}")
    excl = pd.DataFrame(counts, columns=list(EXCLUSION_COLUMNS))
    excl["n_rows"] = excl["n_rows"].astype("int64")
    excl["n_clients"] = excl["n_clients"].astype("int64")
    if not keep.any():
        raise ModelSpecError("no rows left to fit after the exclusions:\n" + excl.to_string())
    return keep, excl


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
