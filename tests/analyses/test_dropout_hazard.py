"""Person-period table and discrete-time dropout hazard (analyses.dropout_hazard).

The GLMM is checked against lme4::glmer on the committed person-period tables
(tests/reference/dropout_hazard: the sample's, where the therapist variance is 0, and a
simulated one with a therapist effect).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engagestats as es
from engagestats.analyses.dropout_hazard import dropout_hazard, person_period
from engagestats.errors import DataValidationError, ModelSpecError
from engagestats.models import glmm
from engagestats.study import Study

REF_DIR = Path(__file__).parents[1] / "reference" / "dropout_hazard"
REF = json.loads((REF_DIR / "reference.json").read_text())
FORMULA = "event ~ log_period + alliance_c + change + (1 | therapist_id)"


def _check(fit, ref):
    fixed = fit.fixed
    assert fixed.index.tolist() == ref["names(fixef(fit))"]
    np.testing.assert_allclose(fixed["estimate"], ref["fixef(fit)"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fixed["se"], ref["sqrt(diag(vcov(fit)))"], rtol=1e-3)
    np.testing.assert_allclose(fit.loglik, ref["logLik(fit)"], rtol=1e-7)
    np.testing.assert_allclose(fit.theta.to_numpy(), ref["getME(fit, 'theta')"], atol=2e-4)


def test_sample_hazard_matches_glmer():
    hz = dropout_hazard(es.load_sample())
    ref = REF["sample"]
    assert hz.formula == FORMULA
    assert len(hz.person_period) == ref["nobs"]
    assert int(hz.person_period["event"].sum()) == ref["n_events"]
    _check(hz.fit, ref)
    assert ref["isSingular(fit)"]
    assert any("singular" in n for n in hz.notes)
    # two of the 63 dropouts are lost with their last period's missing alliance: counted
    excl = hz.exclusions.set_index("reason")
    assert excl.loc["missing alliance or change", "n_rows"] == 58
    assert "61 dropouts" in hz.summary()


def test_therapist_effect_case_matches_glmer():
    ref = REF["therapist"]
    d = pd.read_csv(REF_DIR / "therapist_pp.csv")
    fit = glmm(FORMULA, d, family="binomial")
    assert not ref["isSingular(fit)"]
    _check(fit, ref)


def _study(end_reasons, sessions):
    ids = list(end_reasons)
    return Study(
        therapists=pd.DataFrame({"therapist_id": ["T1", "T2"]}),
        clients=pd.DataFrame(
            {
                "client_id": ids,
                "therapist_id": ["T1", "T2", "T1", "T2"][: len(ids)],
                "end_reason": list(end_reasons.values()),
            }
        ),
        sessions=pd.DataFrame(
            sessions, columns=["client_id", "session", "attended", "wai_sr_total", "phq9_total"]
        ),
    )


def test_person_period_events_periods_and_exclusions():
    study = _study(
        {"a": "dropout", "b": "completed", "c": "referred_on", "d": None},
        [
            ("a", 1, 1, 3.0, 20.0),
            ("a", 2, 0, np.nan, np.nan),  # missed: not a period
            ("a", 3, 1, 3.5, 16.0),
            ("b", 1, 1, 4.0, 12.0),
            ("b", 2, 1, 4.5, 9.0),
            ("b", 3, 1, 4.2, 5.0),
            ("c", 1, 1, 4.0, 10.0),
            ("d", 1, 1, 4.0, 10.0),
        ],
    )
    pp, excl = person_period(study)
    assert pp["client_id"].tolist() == ["a", "a", "b", "b", "b"]
    assert pp["period"].tolist() == [1, 2, 1, 2, 3]
    assert pp["session"].tolist() == [1, 3, 1, 2, 3]
    assert pp["event"].tolist() == [0, 1, 0, 0, 0]  # a leaves after its 2nd attended session
    np.testing.assert_allclose(pp["change"], [0.0, -4.0, 0.0, -3.0, -7.0])
    np.testing.assert_allclose(pp["alliance"], [3.0, 3.5, 4.0, 4.5, 4.2])
    np.testing.assert_allclose(pp["log_period"], np.log(pp["period"]))
    assert pp["therapist_id"].tolist() == ["T1", "T1", "T2", "T2", "T2"]
    reasons = dict(zip(excl["reason"], excl["n_clients"], strict=True))
    assert reasons == {"no end_reason": 1, "end_reason not coded": 1}
    coded, excl2 = person_period(
        study, dropout_coding={"dropout": True, "completed": False, "referred_on": False}
    )
    assert "c" in set(coded["client_id"])
    assert "end_reason not coded" not in set(excl2["reason"])


def test_hazard_needs_a_study_and_events():
    with pytest.raises(DataValidationError):
        dropout_hazard(pd.DataFrame())
    with pytest.raises(DataValidationError):
        dropout_hazard(es.load_sample(), time="cubic")
    study = _study(
        {"a": "completed", "b": "completed"},
        [("a", 1, 1, 3.0, 20.0), ("a", 2, 1, 3.0, 18.0), ("b", 1, 1, 4.0, 12.0)],
    )
    with pytest.raises(ModelSpecError, match="no dropout events"):
        dropout_hazard(study)
