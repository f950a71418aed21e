"""The imputation model of :func:`engagestats.analyses.impute` and its draws.

Two-level (client random intercept and slope, therapist mean as a fixed predictor) or, with
``therapist_slope=True``, three-level (client and therapist random intercepts and slopes).
The formulas use internal column names (``y``, ``tt``, ``p0``, ``g``, ``h``), so data-derived
names never enter a formula.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataValidationError, ModelSpecError, SingularFitWarning
from ..models import lmm

__all__ = ["DrawModel", "Therapists", "fit_draw_model"]


@dataclass(frozen=True)
class Therapists:
    """The therapist level of the three-level imputation model."""

    T: np.ndarray  # (intercept, slope) covariance
    n_therapists: int
    n_observed: int  # therapists with observed scores (the inverse-Wishart df)
    of_client: np.ndarray  # therapist code of each client code
    of_missing: np.ndarray  # therapist code of each row to impute


@dataclass
class DrawModel:
    """A fitted imputation model; :meth:`draw` returns one draw of the missing values."""

    beta: np.ndarray
    vcov_beta: np.ndarray
    sigma2: float
    G: np.ndarray
    n_obs: int
    n_clients: int
    ztz: np.ndarray  # (clients, 2, 2) over observed rows
    zty: np.ndarray  # (clients, 2)
    ztx: np.ndarray  # (clients, 2, p)
    x_mis: np.ndarray
    z_mis: np.ndarray
    codes_mis: np.ndarray
    impute_rows: np.ndarray  # boolean mask over the panel rows
    left_missing: np.ndarray
    notes: tuple[str, ...]
    level3: Therapists | None = None  # therapist_slope=True

    @staticmethod
    def _draw_cov(S: np.ndarray, df: int, rng: np.random.Generator) -> np.ndarray:
        eig = np.linalg.eigvalsh(S)
        if df < 5 or eig.min() <= 1e-8 * max(eig.max(), 1e-300):
            return S
        return np.asarray(
            stats.invwishart.rvs(df=df, scale=S * (df - 3), random_state=rng), dtype=float
        )

    def _draw_g(self, rng: np.random.Generator) -> np.ndarray:
        return self._draw_cov(self.G, self.n_clients, rng)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One proper draw of the missing outcomes (steps 1-5 of :func:`impute`'s Notes)."""
        p = self.beta.size
        nu = self.n_obs - p
        s2 = self.sigma2 * nu / rng.chisquare(nu)
        vb = self.vcov_beta * (s2 / self.sigma2)
        beta = rng.multivariate_normal(self.beta, vb, method="cholesky")
        G = self._draw_g(rng)
        T = None
        if self.level3 is not None:
            T = self._draw_cov(self.level3.T, self.level3.n_observed, rng)
        return self.conditional_draw(beta, s2, G, T, rng)

    def conditional_draw(
        self,
        beta: np.ndarray,
        s2: float,
        G: np.ndarray,
        T: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The missing outcomes drawn given the parameters (steps 4-5)."""
        A = self.ztz / s2
        r = self.zty - np.einsum("cij,j->ci", self.ztx, beta)  # Z_i'(y_i - X_i beta)
        mu = self.x_mis @ beta
        if self.level3 is not None and T is not None:
            lv = self.level3
            u = self._draw_therapists(lv, A, r, G, T, s2, rng)
            r = r - np.einsum("cij,cj->ci", self.ztz, u[lv.of_client])
            mu = mu + np.einsum("ij,ij->i", self.z_mis, u[lv.of_missing])
        M = A @ G + np.eye(2)
        V = G @ np.linalg.inv(M)
        V = 0.5 * (V + np.transpose(V, (0, 2, 1)))
        b = _mvn(np.einsum("cij,cj->ci", V, r) / s2, V, rng)
        mu = mu + np.einsum("ij,ij->i", self.z_mis, b[self.codes_mis])
        return mu + rng.normal(0.0, np.sqrt(s2), size=mu.size)

    def _draw_therapists(
        self,
        lv: Therapists,
        A: np.ndarray,
        r: np.ndarray,
        G: np.ndarray,
        T: np.ndarray,
        s2: float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Therapist effects ``u_j`` given the observed scores, client effects integrated out.

        Step 4a of :func:`impute`'s Notes.
        """
        # Z_i' V_i^{-1} Z_i and Z_i' V_i^{-1} r_i with V_i = sigma^2 I + Z_i G Z_i' (Woodbury,
        # written with G (I + A G)^{-1} so that a singular G is allowed)
        K = np.einsum("ij,cjk->cik", G, np.linalg.inv(A @ G + np.eye(2)))  # G (I + A G)^{-1}
        H = A - A @ K @ A
        h = (r - np.einsum("cij,cjk,ck->ci", A, K, r)) / s2
        S = np.zeros((lv.n_therapists, 2, 2))
        sv = np.zeros((lv.n_therapists, 2))
        np.add.at(S, lv.of_client, H)
        np.add.at(sv, lv.of_client, h)
        Vu = np.einsum("ij,tjk->tik", T, np.linalg.inv(S @ T + np.eye(2)))  # (T^-1 + S)^-1
        return _mvn(np.einsum("tij,tj->ti", Vu, sv), Vu, rng)


def _mvn(mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of ``mean`` from ``N(mean[k], cov[k])`` (covariances may be singular)."""
    cov = 0.5 * (cov + np.transpose(cov, (0, 2, 1)))
    w, U = np.linalg.eigh(cov)
    z = rng.standard_normal(mean.shape)
    return mean + np.einsum("cij,cj->ci", U, np.sqrt(np.clip(w, 0, None)) * z)


def _g_matrix(varcorr: pd.DataFrame, group: str, slope: str) -> np.ndarray:
    """The 2 x 2 (intercept, slope) covariance of ``group`` from an lmm ``varcorr`` table."""
    vc = varcorr[varcorr["group"] == group]
    var = vc[vc["var2"].isna()].set_index("var1")["vcov"]
    cov = vc[vc["var2"].notna()]["vcov"]
    c = float(cov.iloc[0]) if len(cov) else 0.0
    return np.array([[var["(Intercept)"], c], [c, var[slope]]], dtype=float)


def _singular(S: np.ndarray) -> bool:
    eig = np.linalg.eigvalsh(S)
    return bool(eig.min() <= 1e-8 * max(eig.max(), 1e-300))


def fit_draw_model(
    panel: pd.DataFrame,
    outcome: str,
    preds: list[str],
    time: str,
    client: str,
    therapist: str,
    *,
    therapist_slope: bool = False,
) -> DrawModel:
    """Fit the imputation model to the observed rows of ``panel``."""
    usable = panel[[time, client, therapist, *preds]].notna().all(axis=1).to_numpy()
    y = panel[outcome].to_numpy(float)
    observed = usable & ~np.isnan(y)
    todo = usable & np.isnan(y)
    left = ~usable & np.isnan(y)
    if observed.sum() < 10:
        raise ModelSpecError(f"only {int(observed.sum())} observed {outcome!r} values to model")
    notes: list[str] = []
    t = panel[time].to_numpy(float)
    cols = {"tt": t}
    for k, c in enumerate(preds):
        cols[f"p{k}"] = panel[c].to_numpy(float)
    for k in range(len(preds)):
        cols[f"tp{k}"] = t * cols[f"p{k}"]
    if not therapist_slope:
        ther_mean = panel.loc[observed].groupby(therapist)[outcome].mean()
        tm = panel[therapist].map(ther_mean).to_numpy(float)
        if np.isnan(tm[usable]).any():
            n = int(panel.loc[usable & np.isnan(tm), therapist].nunique())
            notes.append(
                f"{n} therapist(s) without an observed {outcome}: the overall mean is used"
            )
            tm = np.where(np.isnan(tm), float(np.nanmean(y[observed])), tm)
        cols["tmean"] = tm
    X = np.column_stack([np.ones(len(panel)), *cols.values()])
    codes_all, levels = pd.factorize(panel[client].where(pd.Series(usable)))
    ther_codes, ther_levels = pd.factorize(panel[therapist].where(pd.Series(usable)))
    frame = pd.DataFrame(cols).assign(y=y, g=panel[client].to_numpy(), h=ther_codes)
    formula = f"y ~ {' + '.join(cols)} + (1 + tt | g)"
    if therapist_slope:
        per_client = pd.Series(ther_codes[usable]).groupby(codes_all[usable]).nunique()
        if (per_client > 1).any():
            raise DataValidationError.for_argument(
                "therapist_slope",
                f"{int((per_client > 1).sum())} client(s) seen by more than one therapist",
                f"clients nested in therapists (one {therapist} per client)",
            )
        formula += " + (1 + tt | h)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SingularFitWarning)
        fit = lmm(formula, frame.loc[observed].reset_index(drop=True))
    for w in caught:
        if not issubclass(w.category, SingularFitWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    names = ["(Intercept)", *cols]
    beta = fit.fixed["estimate"].loc[names].to_numpy(float)
    vcov = fit.vcov.loc[names, names].to_numpy(float)
    G = _g_matrix(fit.varcorr, "g", "tt")
    if _singular(G):
        notes.append(
            "the imputation model's client covariance matrix is singular (a variance "
            "estimated as 0); G is not redrawn"
        )

    n_clients = len(levels)
    Z = np.column_stack([np.ones(len(panel)), t])
    ztz = np.zeros((n_clients, 2, 2))
    zty = np.zeros((n_clients, 2))
    ztx = np.zeros((n_clients, 2, X.shape[1]))
    co = codes_all[observed]
    np.add.at(ztz, co, np.einsum("ni,nj->nij", Z[observed], Z[observed]))
    np.add.at(zty, co, Z[observed] * y[observed, None])
    np.add.at(ztx, co, np.einsum("ni,nj->nij", Z[observed], X[observed]))
    level3 = None
    if therapist_slope:
        T = _g_matrix(fit.varcorr, "h", "tt")
        n_ther = int(np.unique(ther_codes[observed]).size)
        why = [
            *(["it is singular (a variance estimated as 0)"] if _singular(T) else []),
            *([f"only {n_ther} therapists have observed scores"] if n_ther < 5 else []),
        ]
        if why:
            notes.append(f"the therapist covariance matrix is not redrawn: {'; '.join(why)}")
        of_client = np.zeros(n_clients, dtype=int)
        of_client[codes_all[usable]] = ther_codes[usable]
        level3 = Therapists(
            T=T,
            n_therapists=len(ther_levels),
            n_observed=n_ther,
            of_client=of_client,
            of_missing=ther_codes[todo],
        )
    return DrawModel(
        beta=beta,
        vcov_beta=vcov,
        sigma2=fit.sigma**2,
        G=G,
        n_obs=int(observed.sum()),
        n_clients=int(np.unique(co).size),
        ztz=ztz,
        zty=zty,
        ztx=ztx,
        x_mis=X[todo],
        z_mis=Z[todo],
        codes_mis=codes_all[todo],
        impute_rows=todo,
        left_missing=left,
        notes=tuple(notes),
        level3=level3,
    )
