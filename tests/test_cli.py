"""The command line: --version, --help that documents every option, and its error paths.

Also (issue 16): the optional-dependency errors name the extra that installs the package, the
report never tracebacks on a study that ``load_study`` accepts (each optional column removed,
and all of them), and the installed wheel runs ``--version``, ``--help`` and ``--check``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import engagestats as es
from engagestats.__main__ import _build_parser, main

ROOT = Path(__file__).parents[1]


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


def test_check_on_the_bundled_sample_folder_uses_the_committed_tables():
    # `engagestats report data/sample --check` names the sample's folder: it is the
    # input of the committed tables, so no --reference is needed (before: refused)
    from engagestats.datasets import sample_folder
    from engagestats.report import REFERENCE_DIR, _reference

    assert _reference(None, sample_folder()) == REFERENCE_DIR
    assert _reference(None, str(sample_folder()) + "/") == REFERENCE_DIR


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


# ------------------------------------------------------------ optional-dependency messages
def _extras() -> dict[str, set[str]]:
    """pyproject's extras: name -> distribution names (lower case, no version, no extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        extra: {re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower() for req in reqs}
        for extra, reqs in project["optional-dependencies"].items()
    }


def _named_extra(message: str) -> str:
    # quoted, so that the command also works in zsh (where [...] is a glob)
    m = re.search(r"pip install \"engagestats\[(\w+)\]\"", message)
    assert m, f"no 'pip install \"engagestats[...]\"' in: {message}"
    return m[1]


def _three_tables(folder: Path, therapists_suffix: str) -> Path:
    folder.mkdir()
    sample = es.load_sample()
    es.write_study(sample, folder)
    (folder / "therapists.csv").unlink()
    (folder / f"therapists{therapists_suffix}").write_bytes(b"")  # never read: import first
    return folder


OPTIONAL_PACKAGES = [
    # (module that is missing, its distribution, what the user does)
    ("openpyxl", "openpyxl", "read xlsx"),
    ("openpyxl", "openpyxl", "write xlsx"),
    ("pyreadstat", "pyreadstat", "read sav"),
    ("pyarrow", "pyarrow", "read parquet"),
    ("pyarrow", "pyarrow", "write parquet"),
    ("yaml", "pyyaml", "load a yaml instrument"),
    ("docx", "python-docx", "report --docx"),
]


@pytest.mark.parametrize(("module", "distribution", "action"), OPTIONAL_PACKAGES)
def test_optional_dependency_error_names_the_extra_that_installs_it(
    module, distribution, action, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    if action.startswith("read "):
        folder = _three_tables(tmp_path / "study", "." + action.split()[1])
        with pytest.raises(es.EngageStatsError) as exc:
            es.load_study(folder)
        message = str(exc.value)
    elif action.startswith("write "):
        with pytest.raises(es.EngageStatsError) as exc:
            es.write_study(es.load_sample(), tmp_path / "out", format=action.split()[1])
        message = str(exc.value)
    elif action == "load a yaml instrument":
        path = tmp_path / "srq.yaml"
        path.write_text("name: srq\n", encoding="utf-8")
        with pytest.raises(es.EngageStatsError) as exc:
            es.instruments.load_instrument(path)
        message = str(exc.value)
    else:
        assert main(["report", "--out", str(tmp_path / "o"), "--docx"]) == 2
        message = capsys.readouterr().err
        assert "Traceback" not in message
    extra = _named_extra(message)
    extras = _extras()
    assert extra in extras, f"the message names engagestats[{extra}], which pyproject lacks"
    assert distribution in extras[extra], f"engagestats[{extra}] does not install {distribution}"


def test_dev_extra_includes_every_runtime_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    (self_ref,) = [r for r in extras["dev"] if r.startswith("engagestats[")]
    included = set(self_ref.removeprefix("engagestats[").removesuffix("]").split(","))
    assert {"io", "docx", "yaml", "docs"} <= included
    assert "latex2mathml" in _extras()["docs"]  # the docs' build-time math


# --------------------------------------------- no traceback on a study load_study accepts
def _optional_groups() -> dict[str, list[tuple[str, str]]]:
    """Every optional codebook column, grouped (a questionnaire's items are one group)."""
    book = es.codebook()
    optional = book.loc[~book["required"], ["table", "column"]].itertuples(index=False)
    groups: dict[str, list[tuple[str, str]]] = {}
    for table, column in optional:
        stem, _, tail = column.rpartition("_")
        group = stem if tail.isdigit() else column
        groups.setdefault(f"{table}.{group}", []).append((table, column))
    groups["all optional columns"] = [pair for pairs in list(groups.values()) for pair in pairs]
    return groups


OPTIONAL_GROUPS = _optional_groups()


@pytest.fixture(scope="module")
def small_sample():
    """Three therapists of the sample (33 clients): every section runs, fast."""
    sample = es.load_sample()
    therapists = sample.therapists.iloc[:3]
    clients = sample.clients[sample.clients["therapist_id"].isin(therapists["therapist_id"])]
    sessions = sample.sessions[sample.sessions["client_id"].isin(clients["client_id"])]
    return {"therapists": therapists, "clients": clients, "sessions": sessions}


def test_the_groups_cover_the_codebook():
    assert {"therapists.modality", "clients.format", "sessions.attended", "sessions.phq9"} <= set(
        OPTIONAL_GROUPS
    )
    book = es.codebook()
    assert len(OPTIONAL_GROUPS["all optional columns"]) == int((~book["required"]).sum())


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(OPTIONAL_GROUPS))
def test_report_never_tracebacks_on_a_study_load_study_accepts(
    group, small_sample, tmp_path, capsys
):
    """Each optional column (or questionnaire) removed, and all of them at once."""
    drop = OPTIONAL_GROUPS[group]
    tables = {
        name: frame.drop(columns=[c for t, c in drop if t == name and c in frame.columns])
        for name, frame in small_sample.items()
    }
    folder = tmp_path / "study"
    es.write_study(es.load_study(tables), folder)  # accepted: the premise
    out = tmp_path / "out"
    with warnings.catch_warnings(record=True):  # the CLI prints warnings, they are no crash
        warnings.simplefilter("always")
        code = main(["report", str(folder), "--out", str(out), "--no-docx"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert code == 0, captured.err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Sample description" in page
    if group == "all optional columns":
        assert page.count("Not reported: this study lacks what the section needs") >= 5


# ------------------------------------------------------------------ from an installed wheel
@pytest.mark.slow
def test_installed_wheel_version_help_and_check(tmp_path):
    """Build the wheel, install it alone (no docs/ beside it) and run the command line."""
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("engagestats-*.whl")
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "engagestats", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"engagestats {es.__version__}"
    helptext = run("report", "--help")
    assert helptext.returncode == 0
    assert "--check" in helptext.stdout
    assert not re.search(r"``|:(func|class|meth|mod):", helptext.stdout)
    check = run("report", "--out", str(tmp_path / "o"), "--check")
    assert check.returncode == 2, check.stdout + check.stderr
    assert "Traceback" not in check.stderr
    assert "source checkout" in check.stderr
    assert "--reference" in check.stderr
    assert not (tmp_path / "o").exists()
    # The installed copy was the one that ran, and it ships the example exports.
    probe = subprocess.run(
        [sys.executable, "-c", "import engagestats.io as e; print(e.example_export("
         "'qualtrics_sample.csv'))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert probe.stdout.strip().startswith(str(target)), probe.stdout + probe.stderr
