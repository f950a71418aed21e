"""Private: publication tables (APA style) of fitted outcome models."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ModelSpecError
from ._time_scale import plain

if TYPE_CHECKING:
    from ..scoring import ScoringPolicy
    from .outcome_model import OutcomeModel

__all__ = ["format_table", "model_table", "policy_text", "with_policy_note"]

FORMATS = ("dataframe", "markdown", "latex", "html")
COLUMNS = ["section", "term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]


def model_table(model: OutcomeModel, *, style: str = "apa", format: str = "dataframe") -> Any:
    """Fixed effects, variance components, ICC, R2 and Ns of a fitted model."""
    if style != "apa":
        raise ModelSpecError(f"style must be 'apa', got {style!r}")
    if format not in FORMATS:
        raise ModelSpecError(f"format must be one of {FORMATS}, got {format!r}")
    fit = model.fit
    fixed = fit.fixed_effects(ddf=model.ddf).reset_index()
    fixed["term"] = [plain(str(t)) for t in fixed["term"]]  # "time:`my var`" -> "time:my var"
    fixed.insert(0, "section", "fixed effects")
    rows: list[dict[str, Any]] = []
    for r in fit.varcorr.itertuples(index=False):
        if r.var2 is None or (isinstance(r.var2, float) and np.isnan(r.var2)):
            name = "residual" if r.group == "Residual" else f"{r.group}: {r.var1}"
            rows.append({"section": "random effects (variance)", "term": name, "estimate": r.vcov})
        else:
            rows.append(
                {
                    "section": "random effects (correlation)",
                    "term": f"{r.group}: {r.var1}, {r.var2}",
                    "estimate": r.sdcor,
                }
            )
    icc = fit.icc()
    for group, value in icc["icc_adjusted"].items() if "icc_adjusted" in icc else []:
        rows.append({"section": "model fit", "term": f"ICC ({group})", "estimate": value})
    r2 = fit.r2().iloc[0]
    rows.append({"section": "model fit", "term": "R2 marginal", "estimate": r2["r2_marginal"]})
    rows.append(
        {"section": "model fit", "term": "R2 conditional", "estimate": r2["r2_conditional"]}
    )
    for group, n in fit.ngroups.items():
        rows.append({"section": "N", "term": group, "estimate": float(n)})
    rows.append({"section": "N", "term": "observations", "estimate": float(fit.nobs)})
    out = pd.concat([fixed, pd.DataFrame(rows)], ignore_index=True)[COLUMNS]
    if format == "dataframe":
        return out
    return format_table(out, format=format, title=f"Growth model of {model.outcome}")


def _p(p: float) -> str:
    if np.isnan(p):
        return ""
    return "< .001" if p < 0.001 else f"{p:.3f}".lstrip("0")


def _num(x: float, digits: int = 2) -> str:
    return "" if pd.isna(x) else f"{x:.{digits}f}"


def format_table(table: pd.DataFrame, *, format: str, title: str = "") -> str:
    """Render a :func:`model_table` frame as Markdown, LaTeX or HTML text."""
    head = ["Term", "b", "SE", "df", "t", "p", "95% CI"]
    body: list[list[str]] = []
    section = None
    for r in table.itertuples(index=False):
        if r.section != section:
            section = r.section
            body.append([f"*{section}*", "", "", "", "", "", ""])
        if r.section == "N":
            est = f"{r.estimate:.0f}"
        else:
            est = _num(r.estimate, 3 if r.section != "fixed effects" else 2)
        ci = f"[{_num(r.ci_low)}, {_num(r.ci_high)}]" if not pd.isna(r.ci_low) else ""
        body.append([str(r.term), est, _num(r.se), _num(r.df, 1), _num(r.t), _p(r.p), ci])
    if format == "markdown":
        lines = [f"**{title}**", ""] if title else []
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    if format == "latex":

        def tex(s: str) -> str:
            s = s.replace("\\", "\\textbackslash{}")
            for ch in "&%$#_{}":
                s = s.replace(ch, "\\" + ch)
            if s.startswith("*") and s.endswith("*"):
                s = "\\textit{" + s[1:-1] + "}"
            return s.replace("<", "$<$")

        lines = ["\\begin{table}[ht]", "\\centering"]
        if title:
            lines.append(f"\\caption{{{tex(title)}}}")
        lines += ["\\begin{tabular}{l" + "r" * (len(head) - 1) + "}", "\\hline"]
        lines.append(" & ".join(tex(h) for h in head).replace("b &", "$b$ &", 1) + " \\\\")
        lines.append("\\hline")
        lines += [" & ".join(tex(c) for c in row) + " \\\\" for row in body]
        lines += ["\\hline", "\\end{tabular}", "\\end{table}"]
        return "\n".join(lines)
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = []
    for row in body:
        if row[0].startswith("*") and row[0].endswith("*"):
            trs.append(
                f'<tr><td colspan="{len(head)}"><em>{html.escape(row[0][1:-1])}</em></td></tr>'
            )
        else:
            trs.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    return f"<table>{cap}<thead><tr>{cells}</tr></thead><tbody>{''.join(trs)}</tbody></table>"


def policy_text(policy: ScoringPolicy | None) -> str:
    """The scoring policy of a model's scores, in words."""
    if policy is None:
        return "Scores as given in the data (not scored by engagestats)."
    return policy.describe()


def with_policy_note(text: str, format: str, policy: ScoringPolicy | None) -> str:
    """A text table with a closing note that states the scoring policy."""
    note = f"Note. {policy_text(policy)}"
    if format == "markdown":
        return f"{text}\n\n*{note}*"
    if format == "latex":
        body = note.replace("%", "\\%").replace("_", "\\_").replace("&", "\\&")
        end = "\\end{table}"
        return text.replace(end, f"\\par\\footnotesize {body}\n{end}")
    return f"{text}<p><small>{html.escape(note)}</small></p>"
