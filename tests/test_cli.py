"""The command line: --version, --help that documents every option, and its error paths."""

from __future__ import annotations

import argparse
import re

import pytest

import engagestats as es
from engagestats.__main__ import _build_parser, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"engagestats {es.__version__}"


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", [None, "report", "sample"])
def test_help_documents_every_option_without_markup(command):
    parser = _build_parser()
    target = parser if command is None else _subparsers(parser)[command]
    text = target.format_help()
    for action in target._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name in action.choices:
                assert re.search(rf"^\s+{name}\s", text, re.M), name
            continue
        assert action.help, action.dest
        for opt in action.option_strings or [action.metavar or action.dest]:
            assert opt in text, opt
    assert "``" not in text
    assert ":func:" not in text
    assert ":class:" not in text


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    assert "--no-docx" in capsys.readouterr().out


def test_check_on_own_data_needs_a_reference(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "o"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "--reference" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before writing anything


def test_check_from_an_installed_wheel_says_why_not(tmp_path, monkeypatch, capsys):
    import engagestats.report as report

    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_path / "site-packages" / "docs")
    assert main(["report", "--out", str(tmp_path / "o"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "source checkout" in err
    assert "--reference" in err


def test_missing_reference_folder(tmp_path, capsys):
    args = ["report", "--out", str(tmp_path / "o"), "--check", "--reference", str(tmp_path / "x")]
    assert main(args) == 2
    assert "no such folder" in capsys.readouterr().err


def test_docx_required_without_python_docx_names_the_extra(tmp_path, monkeypatch, capsys):
    import engagestats.report._docx as docx_mod

    monkeypatch.setattr(docx_mod, "docx_available", lambda: False)
    assert main(["report", "--out", str(tmp_path / "o"), "--docx"]) == 2
    assert 'pip install "engagestats[docx]"' in capsys.readouterr().err


def test_out_that_is_not_a_report_folder_is_refused(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a\n1\n")
    assert main(["report", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not written by engagestats report" in err
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]
