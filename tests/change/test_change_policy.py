"""Change functions and the study's one scoring policy (issue 15).

A Study is scored under its own policy, stated in every table. An explicit other ``policy=``
for a Study is refused with a typed error naming both policies and ``study.with_policy``:
before, it was accepted silently, and for a study whose totals were already scored the table
then stated a policy its scores were not computed under.
"""

import pytest

import engagestats as es
from engagestats.change import instrument_change, talking_therapies_outcomes
from engagestats.errors import DataValidationError
from engagestats.scoring import BUILTIN_RULES, PRORATE_80

CALLS = {
    "instrument_change": lambda data, **kw: instrument_change(data, instrument="phq9", **kw),
    "talking_therapies_outcomes": talking_therapies_outcomes,
}


@pytest.fixture(scope="module")
def study():
    s = es.load_sample()
    assert s.scoring_policy == PRORATE_80
    return s


@pytest.mark.parametrize("name", list(CALLS))
def test_other_policy_for_a_study_is_refused_naming_both(study, name):
    with pytest.raises(DataValidationError) as info:
        CALLS[name](study, policy=BUILTIN_RULES)
    text = str(info.value)
    assert "'builtin'" in text
    assert "'prorate_80'" in text
    assert "study.with_policy(policy)" in text
    assert name in text
    assert info.value.problems["column"].tolist() == ["policy"]


@pytest.mark.parametrize("name", list(CALLS))
def test_scored_study_cannot_be_stated_under_another_policy(study, name):
    # the totals are present (scored under prorate_80): a table stating 'builtin' would be false
    scored = es.score(study)
    with pytest.raises(DataValidationError, match="not this study's own scoring policy"):
        CALLS[name](scored, policy=BUILTIN_RULES)


@pytest.mark.parametrize("name", list(CALLS))
def test_own_policy_explicit_or_not_and_the_with_policy_route(study, name):
    default = CALLS[name](study)
    explicit = CALLS[name](study, policy=PRORATE_80)
    assert default.attrs["scoring_policy"] == explicit.attrs["scoring_policy"] == PRORATE_80
    assert default.equals(explicit)
    strict = CALLS[name](study.with_policy(BUILTIN_RULES))
    assert strict.attrs["scoring_policy"] == BUILTIN_RULES


@pytest.mark.parametrize("name", list(CALLS))
def test_a_table_takes_any_policy_and_states_it(study, name):
    table = study.sessions
    assert CALLS[name](table, policy=BUILTIN_RULES).attrs["scoring_policy"] == BUILTIN_RULES
    assert CALLS[name](table).attrs["scoring_policy"] == PRORATE_80
