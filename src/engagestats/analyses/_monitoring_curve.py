"""Private: expected recovery curves conditional on intake (:func:`expected_recovery`)."""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validate import as_table, check_choice, require_columns
from ..errors import DataValidationError, DataWarning, ModelSpecError
from ..scoring import ScoringPolicy, policy_for, state_policy
from ..study import Study
from ._panel import Exclusions, named_terms, scored_study, with_sum_scales
from ._tables import policy_text

__all__ = [
    "TIME_FORMS",
    "ExpectedRecovery",
    "expected_recovery",
    "monitoring_frame",
    "same_policy",
]

#: Time forms of the expected curve: name -> basis functions of the session index k.
TIME_FORMS: dict[str, tuple[str, ...]] = {
    "log": ("log_session",),
    "log_linear": ("log_session", "sessions_since_intake"),
}
#: Fewer past clients than this gives a warning (the band is a plug-in estimate).
MIN_CLIENTS = 50


def _time_basis(k: np.ndarray, form: str) -> np.ndarray:
    cols = [np.log(k)]
    if form == "log_linear":
        cols.append(k - 1.0)
    return np.column_stack(cols)


def same_policy(
    fitted: ScoringPolicy | None, data: Study | pd.DataFrame, *, what: str, function: str
) -> None:
    """Refuse to monitor a Study scored under another policy than the reference's past clients.

    ``fitted`` is the scoring policy of the scores the curve (or model) was fitted on, None
    when they came from a DataFrame (scores as given); a DataFrame to monitor has no stated
    policy either. Only two stated policies can be compared, and they must be one: a score
    prorated under one rule and judged against a curve of scores under another would move a
    client's status by the rule, not by their progress, and the table could state only one.
    """
    if fitted is None or not isinstance(data, Study):
        return
    own = policy_for(data)
    if own != fitted:
        raise DataValidationError.for_argument(
            "data",
            own.name,
            f"{function}: the {what} was fitted on scores under scoring policy "
            f"{fitted.name!r}, the study to monitor is scored under {own.name!r}; one scoring "
            f"policy per study, stated in every table: monitor study.with_policy(...) under "
            f"{fitted.name!r}, or fit the {what} on past clients scored under {own.name!r}",
        )


def monitoring_frame(
    data: Study | pd.DataFrame,
    *,
    outcome: str,
    covariates: Mapping[str, str],
    client: str,
    session: str,
) -> tuple[pd.DataFrame, list[tuple[str, int, int]]]:
    """One row per session row with the client's intake score and session index.

    The intake is the client's first session row with a score; ``session_index`` is
    ``session - intake session + 1`` (1 at intake). Rows are kept (nothing dropped):
    ``role`` says what each row is (``intake``, ``follow_up``, ``no score``, ``no
    intake``: no scored session or a missing intake covariate).
    """
    cols = [outcome, *covariates.values()]
    if isinstance(data, Study):
        panel = with_sum_scales(scored_study(data, cols).panel(attended_only=True))
        table = "study panel"
    else:
        panel = as_table(data, "sessions").copy()
        table = "data"
    require_columns(panel, [client, session, *cols], table=table, role="monitoring")
    if not pd.api.types.is_numeric_dtype(panel[outcome]):
        raise DataValidationError.for_argument(
            "outcome", outcome, f"column {outcome!r} must be numeric scores"
        )
    if panel[session].isna().any() or not pd.api.types.is_numeric_dtype(panel[session]):
        raise DataValidationError.for_argument(
            "session", session, f"column {session!r} must hold session numbers with none missing"
        )
    frame = panel[[client, session, *dict.fromkeys(cols)]].copy()
    frame = frame.sort_values([client, session], kind="mergesort").reset_index(drop=True)
    y = frame[outcome].astype(float)
    scored = y.notna()
    first = frame[session].where(scored).groupby(frame[client]).transform("min")
    is_intake = scored & (frame[session] == first)
    intake_rows = frame.loc[is_intake].drop_duplicates(client).set_index(client)
    frame["intake"] = frame[client].map(intake_rows[outcome]).astype(float)
    frame["intake_session"] = first
    for name, col in covariates.items():
        frame[f"cov_{name}"] = frame[client].map(intake_rows[col]).astype(float)
    frame["session_index"] = frame[session] - frame["intake_session"] + 1.0
    frame["observed"] = y
    no_intake = frame["intake"].isna()
    for name in covariates:
        no_intake |= frame[f"cov_{name}"].isna()
    role = np.where(is_intake, "intake", "follow_up").astype(object)
    role[~scored.to_numpy()] = "no score"  # includes unscored rows before the intake
    role[no_intake.to_numpy()] = "no intake"
    frame["role"] = role
    ex = Exclusions(frame, client)
    ex.drop(no_intake.to_numpy(), "no intake score or intake covariate")
    ex.drop(~scored.to_numpy(), f"missing outcome {outcome!r}")
    return frame, ex.counts


@dataclass(eq=False)
class ExpectedRecovery:
    """Expected recovery curve fitted on past clients; see :func:`expected_recovery`.

    Attributes
    ----------
    coefficients : DataFrame
        ``part`` (``mean`` or ``log_variance``), ``term``, ``estimate``.
    excluded : DataFrame
        Session rows of the past clients not used: ``reason, n_rows, n_clients``.
    n_clients, n_sessions : int
        Past clients and follow-up session scores the curve was fitted on.
    scoring_policy : ScoringPolicy or None
        The past clients' scoring policy (None for a DataFrame, whose scores
        are used as given); :attr:`coefficients` and :meth:`curve` record it in
        ``attrs["scoring_policy"]``, :meth:`predict` the new clients' own.
    """

    outcome: str
    covariates: dict[str, str]
    time: str
    higher_is_better: bool
    client: str
    session: str
    centres: dict[str, float]
    beta: np.ndarray = field(repr=False)
    gamma: np.ndarray = field(repr=False)
    deviations: np.ndarray = field(repr=False)
    max_session_index: float
    n_clients: int
    n_sessions: int
    excluded: pd.DataFrame = field(repr=False)
    scoring_policy: ScoringPolicy | None = None

    # ------------------------------------------------------------- design rows
    def _names(self) -> tuple[list[str], list[str]]:
        basis = list(TIME_FORMS[self.time])
        level = ["intake", *self.covariates]
        mean = ["(Intercept)", *level, *basis]
        mean += [f"{b}:{v}" for v in level for b in basis]
        return mean, ["(Intercept)", *basis, "intake"]

    def _rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        k = frame["session_index"].to_numpy(dtype=float)
        T = _time_basis(np.where(k >= 1, k, np.nan), self.time)
        level = [frame["intake"].to_numpy(dtype=float) - self.centres["intake"]]
        level += [
            frame[f"cov_{name}"].to_numpy(dtype=float) - self.centres[name]
            for name in self.covariates
        ]
        L = np.column_stack(level)
        one = np.ones((len(frame), 1))
        X = np.hstack([one, L, T, *[T * L[:, [j]] for j in range(L.shape[1])]])
        W = np.hstack([one, T, L[:, [0]]])
        return X, W

    def _moments(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        X, W = self._rows(frame)
        return X @ self.beta, np.sqrt(np.exp(W @ self.gamma))

    # ------------------------------------------------------------------ public
    @property
    def coefficients(self) -> pd.DataFrame:
        mean, var = self._names()
        table = pd.DataFrame(
            {
                "part": ["mean"] * len(mean) + ["log_variance"] * len(var),
                "term": mean + var,
                "estimate": np.concatenate([self.beta, self.gamma]),
            }
        )
        return state_policy(table, self.scoring_policy)

    def cut(self, tail: float) -> float:
        """Deviation beyond which a score is in the worst ``tail`` of past clients' scores."""
        return float(np.quantile(self.deviations, 1.0 - tail))

    def predict(self, data: Study | pd.DataFrame) -> pd.DataFrame:
        """Expected score and spread at every session row of new clients.

        Uses each new client's intake score (first scored session) and intake
        covariates only; later scores of the client never enter their curve.

        Parameters
        ----------
        data : Study or DataFrame
            New clients, with the outcome, client, session and covariate columns.

        Returns
        -------
        DataFrame
            One row per session row: client column, session column,
            ``session_index`` (1 at intake), ``role`` (``intake``, ``follow_up``,
            ``no score``, ``no intake``, or ``beyond curve``
            after the last session index of the past clients), ``intake``,
            ``observed``, ``expected``, ``sd_expected`` and ``deviation``
            (standardised distance from the curve, positive = worse than
            expected). Curve columns are missing where ``role`` is not
            ``follow_up``. ``attrs["scoring_policy"]`` records the scoring
            policy of a Study's scores (none for a DataFrame's scores, used as
            given).

        Raises
        ------
        DataValidationError
            When ``data`` is a Study scored under another policy than
            :attr:`scoring_policy` (the past clients'): monitor
            ``data.with_policy(curve.scoring_policy)``, or fit the curve on past
            clients under the new clients' policy. A DataFrame (scores as given) on
            either side is not checked.
        """
        same_policy(self.scoring_policy, data, what="curve", function="predict")
        frame, _ = monitoring_frame(
            data,
            outcome=self.outcome,
            covariates=self.covariates,
            client=self.client,
            session=self.session,
        )
        beyond = (frame["role"] == "follow_up") & (frame["session_index"] > self.max_session_index)
        frame.loc[beyond, "role"] = "beyond curve"
        follow = (frame["role"] == "follow_up").to_numpy()
        mu = np.full(len(frame), np.nan)
        sd = np.full(len(frame), np.nan)
        if follow.any():
            mu[follow], sd[follow] = self._moments(frame.loc[follow])
        sign = -1.0 if self.higher_is_better else 1.0
        out = frame[[self.client, self.session, "session_index", "role", "intake", "observed"]]
        out = out.copy()
        out["expected"] = mu
        out["sd_expected"] = sd
        out["deviation"] = sign * (out["observed"].to_numpy() - mu) / sd
        return state_policy(out, policy_for(data) if isinstance(data, Study) else None)

    def curve(
        self,
        *,
        intake: float,
        covariates: Mapping[str, float] | None = None,
        sessions: Sequence[float] | None = None,
        tail: float = 0.10,
    ) -> pd.DataFrame:
        """Expected curve and alarm bound of a client with the given intake values.

        Returns ``session_index, expected, sd_expected, alarm_bound``: the
        bound is the score beyond which a session is in the worst ``tail``.
        """
        given = dict(covariates or {})
        unknown = sorted(set(given) - set(self.covariates))
        missing = sorted(set(self.covariates) - set(given))
        if unknown or missing:
            raise ModelSpecError(
                f"curve() needs exactly the covariates {sorted(self.covariates)}; "
                f"unknown {unknown}, missing {missing}"
            )
        if sessions is None:
            k = np.arange(2.0, self.max_session_index + 1.0)
        else:
            k = np.asarray(sessions, dtype=float)
        if (k < 2).any():
            raise DataValidationError.for_argument(
                "sessions", list(k), "session indices must be >= 2 (1 is the intake)"
            )
        frame = pd.DataFrame({"session_index": k, "intake": float(intake)})
        for name in self.covariates:
            frame[f"cov_{name}"] = float(given[name])
        mu, sd = self._moments(frame)
        sign = -1.0 if self.higher_is_better else 1.0
        table = pd.DataFrame(
            {
                "session_index": k,
                "expected": mu,
                "sd_expected": sd,
                "alarm_bound": mu + sign * self.cut(tail) * sd,
            }
        )
        return state_policy(table, self.scoring_policy)

    def summary(self) -> str:
        """Data used, exclusions and coefficients as text."""
        excl = "none" if self.excluded.empty else "\n" + self.excluded.to_string(index=False)
        return (
            f"Expected recovery curve of {self.outcome!r} (time form {self.time!r})\n"
            f"past clients: {self.n_clients}, follow-up scores: {self.n_sessions}, "
            f"session indices 2-{self.max_session_index:g}\n"
            f"session rows not used: {excl}\n{policy_text(self.scoring_policy)}\n\n"
            f"{self.coefficients.to_string(index=False)}"
        )

    def __repr__(self) -> str:
        return (
            f"ExpectedRecovery({self.outcome!r}, time={self.time!r}, {self.n_clients} past clients)"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _log_variance_fit(r2: np.ndarray, W: np.ndarray, *, max_iter: int = 100) -> np.ndarray:
    """Quasi-likelihood fit of ``log E[r^2] = W gamma`` (variance ~ mu^2; R's Gamma log link).

    IRLS: with the log link and variance mu^2 the working weights are 1, so each step
    is ordinary least squares of ``eta + (r2 - mu) / mu`` on ``W``.
    """
    gamma = np.zeros(W.shape[1])
    gamma[0] = np.log(r2.mean())
    for _ in range(max_iter):
        eta = W @ gamma
        mu = np.exp(eta)
        z = eta + (r2 - mu) / mu
        new = np.linalg.lstsq(W, z, rcond=None)[0]
        if np.max(np.abs(new - gamma)) < 1e-10:
            return new
        gamma = new
    raise ModelSpecError("the variance model of the expected recovery curve did not converge")


def expected_recovery(
    data: Study | pd.DataFrame,
    *,
    outcome: str = "phq9_total",
    covariates: Sequence[str] | Mapping[str, str] | None = None,
    time: str = "log",
    higher_is_better: bool = False,
    client: str = "client_id",
    session: str = "session",
) -> ExpectedRecovery:
    """Fit expected recovery curves on past clients, conditional on the intake score.

    Parameters
    ----------
    data : Study or DataFrame
        Past (reference) clients: a Study (attended sessions; the outcome is
        scored with :data:`~engagestats.analyses.PRORATION` when absent) or a
        long table with ``client``, ``session`` and ``outcome`` columns.
    outcome : str, default "phq9_total"
        The monitored score.
    covariates : list or mapping of str, optional
        Intake covariates (name -> column, or column names), read at the
        client's intake row; they shift the curve's level and slope.
    time : {"log", "log_linear"}, default "log"
        Form of time: ``log(k)`` with ``k`` the session index (1 at intake),
        as Finch, Lambert & Schaalje (2001); ``"log_linear"`` adds ``k - 1``,
        for recovery that keeps a steady component after the early drop.
    higher_is_better : bool, default False
        Direction of the score (False for symptom scales such as PHQ-9).
    client, session : str
        Key columns.

    Returns
    -------
    ExpectedRecovery
        ``.predict(new_data)``, ``.curve(intake=...)``, ``.coefficients``,
        ``.excluded``, ``.summary()``; alarms come from :func:`progress_alarms`.

    Raises
    ------
    DataValidationError
        A column is missing or not numeric.
    ModelSpecError
        Too few follow-up scores to fit the curve.

    Notes
    -----
    The intake score :math:`x_i` is the client's first scored session and
    :math:`k` the session index from it (1 at intake). With
    :math:`T_k = \\log k` (and :math:`k - 1` for ``"log_linear"``), centred
    intake :math:`c_i = x_i - \\bar x` and centred covariates :math:`v_i`,
    the follow-up scores (:math:`k \\ge 2`) of past clients are fitted by
    ordinary least squares,

    .. math::

        y_{ik} = \\beta_0 + \\beta_c c_i + \\beta_v' v_i + \\beta_T' T_k
                 + T_k'(\\beta_{Tc} c_i + B_{Tv} v_i) + \\varepsilon_{ik},

    and the spread by a log-linear variance model,
    :math:`\\log E[\\hat\\varepsilon_{ik}^2] = \\gamma_0 + \\gamma_T' T_k +
    \\gamma_c c_i`, fitted by quasi-likelihood with variance
    :math:`\\propto \\mu^2` (R: ``glm(r2 ~ ..., family = Gamma("log"))``).
    A session's *deviation* is
    :math:`d_{ik} = \\pm (y_{ik} - \\hat\\mu_{ik}) / \\hat\\sigma_{ik}`, signed so
    that positive is worse than expected; :func:`progress_alarms` compares it
    with empirical quantiles of the past clients' deviations. This is the
    distribution of a score at session :math:`k` among past clients *still
    attending* with the same intake values (the curve of clients who
    remain), which is what a session-by-session comparison needs. Like Finch
    et al. (2001) the curve depends on intake severity and log session; unlike
    them it is a pooled regression with session-dependent spread rather than
    an HLM, and it reproduces no published system's cut-offs. Parameter
    uncertainty is ignored (plug-in band); with fewer than 50 past clients a
    :class:`~engagestats.DataWarning` is issued.

    References
    ----------
    Finch, A. E., Lambert, M. J., & Schaalje, B. G. (2001). Psychotherapy
    quality control: the statistical generation of expected recovery curves
    for integration into an early warning system. *Clinical Psychology &
    Psychotherapy, 8*(4), 231-242.

    Examples
    --------
    >>> import engagestats as es
    >>> past = es.simulate_study(n_therapists=10, clients_per_therapist=8, seed=3)
    >>> curve = es.expected_recovery(past)
    >>> curve
    ExpectedRecovery('phq9_total', time='log', 76 past clients)
    >>> band = curve.curve(intake=18.0, sessions=[2, 6, 12])
    >>> bool(band["expected"].is_monotonic_decreasing)
    True
    """
    check_choice(time, tuple(TIME_FORMS), name="time")
    covs = named_terms(covariates)
    frame, counts = monitoring_frame(
        data, outcome=outcome, covariates=covs, client=client, session=session
    )
    ex = Exclusions(frame, client, counts)
    ex.drop((frame["role"] == "intake").to_numpy(), "intake session (the predictor)")
    fit = frame.loc[frame["role"] == "follow_up"]
    clients = frame.loc[frame["role"] == "intake"]
    n_clients = int(fit[client].nunique())
    mean_terms = 2 * (1 + len(covs)) * len(TIME_FORMS[time]) + 2 + len(covs)
    if len(fit) < 2 * mean_terms or n_clients < 3:
        raise ModelSpecError(
            f"expected_recovery needs follow-up scores of at least 3 past clients and "
            f"{2 * mean_terms} scores; got {len(fit)} of {n_clients} clients"
        )
    if n_clients < MIN_CLIENTS:
        warnings.warn(
            f"expected_recovery: only {n_clients} past clients; the band is a plug-in "
            f"estimate and is too narrow in small samples",
            DataWarning,
            stacklevel=2,
        )
    centres = {"intake": float(clients["intake"].mean())}
    for name in covs:
        centres[name] = float(clients[f"cov_{name}"].mean())
    model = ExpectedRecovery(
        outcome=outcome,
        covariates=covs,
        time=time,
        higher_is_better=bool(higher_is_better),
        client=client,
        session=session,
        centres=centres,
        beta=np.empty(0),
        gamma=np.empty(0),
        deviations=np.empty(0),
        max_session_index=float(fit["session_index"].max()),
        n_clients=n_clients,
        n_sessions=len(fit),
        excluded=ex.table(),
        scoring_policy=policy_for(data) if isinstance(data, Study) else None,
    )
    X, W = model._rows(fit)
    y = fit["observed"].to_numpy(dtype=float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ModelSpecError("the expected recovery design is rank deficient (constant intake?)")
    model.beta = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = y - X @ model.beta
    model.gamma = _log_variance_fit(resid**2, W)
    sign = -1.0 if higher_is_better else 1.0
    model.deviations = np.sort(sign * resid / np.sqrt(np.exp(W @ model.gamma)))
    return model
