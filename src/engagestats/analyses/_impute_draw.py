"""The two-level imputation model of :func:`engagestats.analyses.impute` and its draws."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ModelSpecError, SingularFitWarning
from ..models import lmm

__all__ = ["DrawModel", "fit_draw_model"]


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

    def _draw_g(self, rng: np.random.Generator) -> np.ndarray:
        eig = np.linalg.eigvalsh(self.G)
        if eig.min() <= 1e-8 * max(eig.max(), 1e-300):
            return self.G
        df = self.n_clients
        return np.asarray(
            stats.invwishart.rvs(df=df, scale=self.G * (df - 3), random_state=rng), dtype=float
        )

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One proper draw of the missing outcomes (steps 1-5 of :func:`impute`'s Notes)."""
        p = self.beta.size
        nu = self.n_obs - p
        s2 = self.sigma2 * nu / rng.chisquare(nu)
        vb = self.vcov_beta * (s2 / self.sigma2)
        beta = rng.multivariate_normal(self.beta, vb, method="cholesky")
        G = self._draw_g(rng)
        A = self.ztz / s2
        M = A @ G + np.eye(2)
        V = G @ np.linalg.inv(M)
        V = 0.5 * (V + np.transpose(V, (0, 2, 1)))
        r = self.zty - np.einsum("cij,j->ci", self.ztx, beta)
        mean = np.einsum("cij,cj->ci", V, r) / s2
        w, U = np.linalg.eigh(V)
        z = rng.standard_normal(mean.shape)
        b = mean + np.einsum("cij,cj->ci", U, np.sqrt(np.clip(w, 0, None)) * z)
        mu = self.x_mis @ beta + np.einsum("ij,ij->i", self.z_mis, b[self.codes_mis])
        return mu + rng.normal(0.0, np.sqrt(s2), size=mu.size)


def _g_matrix(varcorr: pd.DataFrame, group: str, slope: str) -> np.ndarray:
    vc = varcorr[varcorr["group"] == group]
    var = vc[vc["var2"].isna()].set_index("var1")["vcov"]
    cov = vc[vc["var2"].notna()]["vcov"]
    c = float(cov.iloc[0]) if len(cov) else 0.0
    return np.array([[var["(Intercept)"], c], [c, var[slope]]], dtype=float)


def fit_draw_model(
    panel: pd.DataFrame,
    outcome: str,
    preds: list[str],
    time: str,
    client: str,
    therapist: str,
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
    ther_mean = panel.loc[observed].groupby(therapist)[outcome].mean()
    tm = panel[therapist].map(ther_mean).to_numpy(float)
    if np.isnan(tm[usable]).any():
        n = int(panel.loc[usable & np.isnan(tm), therapist].nunique())
        notes.append(f"{n} therapist(s) without an observed {outcome}: the overall mean is used")
        tm = np.where(np.isnan(tm), float(np.nanmean(y[observed])), tm)
    t = panel[time].to_numpy(float)
    cols = {"tt": t}
    for k, c in enumerate(preds):
        cols[f"p{k}"] = panel[c].to_numpy(float)
    for k in range(len(preds)):
        cols[f"tp{k}"] = t * cols[f"p{k}"]
    cols["tmean"] = tm
    X = np.column_stack([np.ones(len(panel)), *cols.values()])
    frame = pd.DataFrame(cols).assign(y=y, g=panel[client].to_numpy())
    formula = f"y ~ {' + '.join(cols)} + (1 + tt | g)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SingularFitWarning)
        fit = lmm(formula, frame.loc[observed].reset_index(drop=True))
    for w in caught:
        if issubclass(w.category, SingularFitWarning):
            notes.append(
                "the imputation model's client covariance matrix is singular (a variance "
                "estimated as 0); G is not redrawn"
            )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    names = ["(Intercept)", *cols]
    beta = fit.fixed["estimate"].loc[names].to_numpy(float)
    vcov = fit.vcov.loc[names, names].to_numpy(float)
    G = _g_matrix(fit.varcorr, "g", "tt")

    codes_all, levels = pd.factorize(panel[client].where(pd.Series(usable)))
    n_clients = len(levels)
    Z = np.column_stack([np.ones(len(panel)), t])
    ztz = np.zeros((n_clients, 2, 2))
    zty = np.zeros((n_clients, 2))
    ztx = np.zeros((n_clients, 2, X.shape[1]))
    co = codes_all[observed]
    np.add.at(ztz, co, np.einsum("ni,nj->nij", Z[observed], Z[observed]))
    np.add.at(zty, co, Z[observed] * y[observed, None])
    np.add.at(ztx, co, np.einsum("ni,nj->nij", Z[observed], X[observed]))
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
    )
