"""The report's sample description counts sessions as the study records them."""

from __future__ import annotations

import dataclasses

import engagestats as es
from engagestats.report._sections import Context, sample_section


def test_sample_section_counts_attended_sessions():
    study = es.load_sample()
    text = sample_section(Context.build(study)).text[0]
    attended = int((study.sessions["attended"] == 1).sum())
    assert f"{len(study.sessions)} offered sessions, of which {attended} were attended" in text


def test_sample_section_without_attendance_does_not_claim_zero_attended():
    # before: "815 offered sessions, of which 0 were attended (a median of 12 attended ...)"
    study = es.load_sample()
    sessions = study.sessions.drop(columns="attended")
    bare = dataclasses.replace(study, sessions=sessions)
    text = sample_section(Context.build(bare)).text[0]
    assert "of which 0 were attended" not in text
    median = sessions.groupby("client_id").size().median()
    want = f"{len(sessions)} session rows (attendance not recorded; a median of {median:.0f}"
    assert want in text
