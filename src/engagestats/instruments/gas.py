"""GAS: Goal Attainment Scaling T-score."""

from __future__ import annotations

from .spec import GasTScore, Instrument

__all__ = ["gas"]


def gas(n_goals: int = 3, *, rho: float = 0.3, weight_stem: str | None = None) -> Instrument:
    """Goal Attainment Scaling (Kiresuk & Sherman, 1968).

    Each goal is rated -2 (much less than expected) to +2 (much more); 0 is the
    expected outcome. The summary ``gas_t_score`` is

    ``T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2)``

    over the rated goals, with weights ``w_i`` from the columns
    ``gas_weight_<i>`` when present (else equal weights) and ``rho`` the
    assumed correlation between goals (0.3 by convention). T is 50 when every
    goal is met as expected; higher is better. At least one rated goal is
    needed.

    Parameters
    ----------
    n_goals : int, default 3
        Number of goals (item columns ``gas_1 .. gas_<n_goals>``).
    rho : float, default 0.3
        Assumed inter-goal correlation.
    weight_stem : str, optional
        Stem of the weight columns (default ``"gas_weight"``).

    Returns
    -------
    Instrument

    References
    ----------
    Kiresuk, T. J., & Sherman, R. E. (1968). Goal attainment scaling: a general
    method for evaluating comprehensive community mental health programs.
    *Community Mental Health Journal*, 4(6), 443-453. Turner-Stokes, L. (2009).
    Goal attainment scaling (GAS) in rehabilitation: a practical guide.
    *Clinical Rehabilitation*, 23(4), 362-370.

    Examples
    --------
    >>> gas(5).items[-1]
    'gas_5'
    """
    return Instrument(
        name="gas",
        items=n_goals,
        response_range=(-2, 2),
        subscales={},
        derived={"t_score": GasTScore(rho=rho, weight_stem=weight_stem)},
        primary="t_score",
        direction="higher_is_better",
        source="Kiresuk & Sherman (1968), Community Ment Health J 4:443-453",
    )
