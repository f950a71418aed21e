"""Shared fixtures: one report of the bundled sample, and its sections, built once per session."""

from __future__ import annotations

import io

import pytest

import engagestats as es
from engagestats.report import run_report
from engagestats.report._model_sections import MODEL_SECTIONS
from engagestats.report._sections import SECTIONS, Context


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert run_report(out=out, stream=io.StringIO()) == 0
    return out


@pytest.fixture(scope="session")
def sections():
    ctx = Context.build(es.load_sample())
    return {s.key: s for s in (build(ctx) for build in [*SECTIONS, *MODEL_SECTIONS])}
