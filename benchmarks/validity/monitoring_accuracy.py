"""Validity benchmark: do progress alarms flag poor progress rather than severe intake?

Run: ``.venv/bin/python benchmarks/validity/monitoring_accuracy.py`` (about a minute).
Writes ``benchmarks/validity/results/monitoring.md``.

Design. Each replication simulates two independent studies with
:func:`engagestats.simulate_study` (30 therapists x 20 clients, up to 20 sessions):
*past* clients, on which :func:`engagestats.expected_recovery` is fitted, and *new*
clients, who are monitored with :func:`engagestats.progress_alarms` at two alarm
tails (10% and 5%). The final outcome of a new client is the reliable change
(:func:`engagestats.reliable_change`, SD of the new clients' intake scores,
reliability 0.84 for PHQ-9, 95% criterion) from the intake score to the last
scored session; a poor outcome is *no reliable improvement*.

Checks.

1. Flagged clients end with no reliable improvement far more often than clients
   never flagged.
2. Severity: by quartile of intake score, the share flagged is compared with the
   share with a poor outcome; the false-alarm rate (flagged among clients who did
   improve reliably) and the sensitivity should not rise with severity.
3. Sensitivity, specificity, PPV and NPV with Wilson 95% CIs (clients of all
   replications pooled; the replications are independent studies).
4. Calibration: the new clients come from the same population as the past
   clients, so each of their sessions is on track by construction (its score is
   drawn from the reference distribution the curve estimates). The share of their
   sessions that raise an alarm must match the tail (10% +- 3% for a 10% tail),
   overall, by intake quartile and by session range. Its 95% interval is the mean
   over replications +- 1.96 SD / sqrt(R), which respects the clustering of
   sessions in clients.

Only the public API is used (``simulate_study``, ``expected_recovery``,
``progress_alarms``, ``first_alarms``, ``monitoring_accuracy``), so the benchmark
runs unchanged on any simulator version.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import engagestats as es
from engagestats.change.rates import wilson_interval

TAILS = (0.10, 0.05)
RELIABILITY = 0.84
RESULTS = Path(__file__).parent / "results" / "monitoring.md"


def _old_flags(past: es.Study, new: es.Study) -> pd.Series:
    """Clients ever flagged by the superseded ``off_track`` (growth-model band), by client."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", es.EngageStatsWarning)  # boundary fits are harmless here
        model = es.growth_model(
            past, predictors={"autonomous": "srq_autonomous", "readiness": "urica_readiness"}
        )
    flags = es.off_track(model, new)
    return flags.groupby("client_id")["off_track"].any()


def replicate(
    seed: int,
    *,
    n_therapists: int = 30,
    clients_per_therapist: int = 20,
    time: str = "log",
    old: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication: per-client table and per-session table for every tail.

    With ``old=True`` the client table also gets ``old_flagged`` (superseded
    ``off_track``, two-sided 95% growth-model band).
    """
    size = {"n_therapists": n_therapists, "clients_per_therapist": clients_per_therapist}
    past = es.simulate_study(seed=seed, **size)
    new = es.simulate_study(seed=seed + 1, **size)
    curve = es.expected_recovery(past, time=time)
    old_flags = _old_flags(past, new) if old else None
    clients, sessions = [], []
    for tail in TAILS:
        alarms = es.progress_alarms(curve, new, tail=tail, at_risk_tail=max(0.25, 2 * tail))
        acc = es.monitoring_accuracy(alarms, reliability=RELIABILITY)
        c = acc.clients[["client_id", "intake", "alarmed", "poor_outcome"]].copy()
        c["quartile"] = pd.qcut(c["intake"], 4, labels=False, duplicates="drop") + 1
        c["tail"], c["seed"] = tail, seed
        if old_flags is not None:
            c["old_flagged"] = c["client_id"].map(old_flags).fillna(False).astype(bool)
        clients.append(c)
        s = alarms.loc[alarms["role"] == "follow_up", ["client_id", "session_index", "alarm"]]
        s = s.merge(c[["client_id", "quartile"]], on="client_id", how="left")
        s["tail"], s["seed"] = tail, seed
        sessions.append(s)
    return pd.concat(clients, ignore_index=True), pd.concat(sessions, ignore_index=True)


def _wilson(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k / n:.3f} [{float(lo):.3f}, {float(hi):.3f}]"


def _rep_interval(values: pd.Series) -> tuple[float, float, float]:
    m, sd = float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else np.nan
    half = 1.96 * sd / np.sqrt(len(values))
    return m, m - half, m + half


def summarise(clients: pd.DataFrame, sessions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The benchmark tables (one DataFrame per check)."""
    poor_by_flag, accuracy, severity, calib, old = [], [], [], [], []
    for tail, c in clients.groupby("tail", sort=False):
        f, p = c["alarmed"].to_numpy(bool), c["poor_outcome"].to_numpy(bool)
        sens, far = f[p].mean(), f[~p].mean()
        poor_by_flag.append(
            {
                "tail": tail,
                "n_clients": len(c),
                "share_flagged": _wilson(int(f.sum()), len(c)),
                "poor_if_flagged": _wilson(int((p & f).sum()), int(f.sum())),
                "poor_if_not_flagged": _wilson(int((p & ~f).sum()), int((~f).sum())),
                "ratio": round(float((p & f).sum() / f.sum() / ((p & ~f).sum() / (~f).sum())), 2),
                "odds_ratio": round(
                    float((p & f).sum() * (~p & ~f).sum() / ((~p & f).sum() * (p & ~f).sum())), 2
                ),
            }
        )
        for name, k, n in (
            ("sensitivity", (f & p).sum(), p.sum()),
            ("specificity", (~f & ~p).sum(), (~p).sum()),
            ("ppv", (f & p).sum(), f.sum()),
            ("npv", (~f & ~p).sum(), (~f).sum()),
        ):
            accuracy.append({"tail": tail, "measure": name, "estimate [95% CI]": _wilson(k, n)})
        for q, cq in c.groupby("quartile"):
            fq, pq = cq["alarmed"].to_numpy(bool), cq["poor_outcome"].to_numpy(bool)
            severity.append(
                {
                    "tail": tail,
                    "intake_quartile": int(q),
                    "mean_intake": round(float(cq["intake"].mean()), 1),
                    "poor_outcome_rate": round(float(pq.mean()), 3),
                    "share_flagged": round(float(fq.mean()), 3),
                    # share flagged if the alarm depended on the outcome only (overall
                    # sensitivity and false-alarm rate applied to this quartile's outcome rate)
                    "flagged_if_severity_neutral": round(
                        float(sens * pq.mean() + far * (1 - pq.mean())), 3
                    ),
                    "sensitivity": round(float(fq[pq].mean()), 3),
                    "false_alarm_rate": round(float(fq[~pq].mean()), 3),
                }
            )
    first_tail = clients[clients["tail"] == clients["tail"].iloc[0]]
    if "old_flagged" in first_tail.columns:
        c = first_tail.dropna(subset=["old_flagged"])
        for method, col in (
            ("off_track (superseded)", "old_flagged"),
            ("progress_alarms", "alarmed"),
        ):
            f, p = c[col].to_numpy(bool), c["poor_outcome"].to_numpy(bool)
            row = {"method": method, "n_clients": len(c)}
            for q, cq in c.groupby("quartile"):
                row[f"flagged_Q{int(q)}"] = round(float(cq[col].mean()), 3)
            row["poor_if_flagged"] = round(float(p[f].mean()), 3)
            row["poor_if_not_flagged"] = round(float(p[~f].mean()), 3)
            old.append(row)
    for tail, s in sessions.groupby("tail", sort=False):
        s = s.assign(
            sessions=pd.cut(s["session_index"], [1, 5, 10, 60], labels=["2-5", "6-10", "11+"])
        )
        groups = [("all", s)]
        groups += [(f"intake quartile {int(q)}", g) for q, g in s.groupby("quartile")]
        groups += [(f"session index {k}", g) for k, g in s.groupby("sessions", observed=True)]
        for label, g in groups:
            m, lo, hi = _rep_interval(g.groupby("seed")["alarm"].mean())
            calib.append(
                {
                    "tail": tail,
                    "sessions": label,
                    "n_sessions": len(g),
                    "alarm_rate": round(m, 4),
                    "ci_low": round(lo, 4),
                    "ci_high": round(hi, 4),
                    "within_tail_pm_0.3tail": bool(abs(m - tail) <= 0.3 * tail),
                }
            )
    return {
        "poor_outcome_by_flag": pd.DataFrame(poor_by_flag),
        "accuracy": pd.DataFrame(accuracy),
        "severity": pd.DataFrame(severity),
        "calibration": pd.DataFrame(calib),
        "old_method": pd.DataFrame(old),
    }


def run(
    n_reps: int = 40,
    *,
    seed: int = 13_000,
    n_therapists: int = 30,
    clients_per_therapist: int = 20,
    time: str = "log",
    n_old: int = 0,
) -> dict[str, pd.DataFrame]:
    """Run ``n_reps`` replications and return the summary tables.

    The first ``n_old`` replications also run the superseded ``off_track`` for contrast.
    """
    parts = [
        replicate(
            seed + 2 * r,
            n_therapists=n_therapists,
            clients_per_therapist=clients_per_therapist,
            time=time,
            old=r < n_old,
        )
        for r in range(n_reps)
    ]
    clients = pd.concat([p[0] for p in parts], ignore_index=True)
    sessions = pd.concat([p[1] for p in parts], ignore_index=True)
    return summarise(clients, sessions)


def _md_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def to_markdown(tables: dict[str, pd.DataFrame], *, n_reps: int, time: str) -> str:
    """The results page (pasted into docs/validity.md)."""
    titles = {
        "poor_outcome_by_flag": "No reliable improvement among flagged and non-flagged clients",
        "accuracy": "Alarm accuracy for no reliable improvement (Wilson 95% CIs)",
        "severity": "By intake severity quartile",
        "calibration": "Per-session alarm rate when every client is on track (95% CI over "
        "replications)",
        "old_method": "Contrast with the superseded off_track (its two-sided 95% growth-model "
        "band) "
        "and progress_alarms at tail 10%, same clients",
    }
    lines = [
        "## Progress monitoring (`benchmarks/validity/monitoring_accuracy.py`)",
        "",
        f"{n_reps} replications; each fits `expected_recovery(time={time!r})` on one simulated "
        "study of 600 clients and monitors an independent one of 600 clients "
        "(`progress_alarms`, tails 10% and 5%). Poor outcome: no reliable improvement "
        f"(Jacobson-Truax, reliability {RELIABILITY}) from intake to the last scored session.",
        "",
    ]
    for key, title in titles.items():
        if tables[key].empty:
            continue
        lines += [f"### {title}", "", _md_table(tables[key]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--time", default="log", choices=["log", "log_linear"])
    parser.add_argument("--old", type=int, default=10, help="replications with off_track too")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    tables = run(args.reps, time=args.time, n_old=args.old)
    text = to_markdown(tables, n_reps=args.reps, time=args.time)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
