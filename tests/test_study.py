import pandas as pd
import pytest

import engagestats as es
from engagestats.study import Study


def _study():
    return Study(
        therapists=pd.DataFrame({"therapist_id": ["T1", "T2"], "modality": ["cbt", "art_therapy"]}),
        clients=pd.DataFrame(
            {
                "client_id": ["C1", "C2", "C3"],
                "therapist_id": ["T1", "T1", "T2"],
                "age": [30, 41, 25],
            }
        ),
        sessions=pd.DataFrame(
            {
                "client_id": ["C1", "C1", "C2", "C3", "C3", "C3"],
                "session": [1, 2, 1, 1, 2, 3],
                "attended": [1, 1, 1, 1, 0, 1],
                "phq9_1": [2, 1, 3, 1, None, 0],
                "phq9_2": [2, None, 3, 1, None, 0],
            }
        ),
    )


def test_version_exposed():
    assert isinstance(es.__version__, str)
    assert es.__version__.count(".") == 2


def test_panel_joins_client_and_therapist_columns():
    panel = _study().panel()
    assert panel.shape == (6, 8)
    assert panel.loc[panel.client_id == "C3", "modality"].unique().tolist() == ["art_therapy"]
    assert panel.loc[panel.client_id == "C2", "age"].item() == 41


def test_panel_attended_only():
    assert len(_study().panel(attended_only=True)) == 5


def test_summary_counts_and_missingness():
    s = _study().summary().set_index("metric")["value"]
    assert s["therapists"] == 2
    assert s["clients"] == 3
    assert s["session_rows"] == 6
    assert s["attended_sessions"] == 5
    assert s["median"] == 2.0  # attended sessions per client: 2, 1, 2
    # attended rows: 5 rows x 2 items = 10 answers, one missing
    assert s["sessions.phq9"] == pytest.approx(0.1)


def test_missing_key_column_is_a_typed_error():
    with pytest.raises(es.DataValidationError) as err:
        Study(
            therapists=pd.DataFrame({"id": ["T1"]}),
            clients=pd.DataFrame({"client_id": ["C1"], "therapist_id": ["T1"]}),
            sessions=pd.DataFrame({"client_id": ["C1"]}),
        )
    problems = err.value.problems
    assert set(problems["column"]) == {"therapist_id", "session"}
    assert "therapist_id" in str(err.value)


def test_equals_and_repr_html():
    a, b = _study(), _study()
    assert a.equals(b)
    assert not a.equals("x")
    assert "<table>" in a._repr_html_()


def test_study_column_map_and_accounting_default_empty():
    s = _study()
    assert s.column_map.columns.tolist() == ["table", "source", "column", "how", "cells"]
    assert s.accounting.columns.tolist() == [
        "table",
        "file",
        "encoding",
        "rows_read",
        "rows_kept",
        "rows_excluded",
        "blank_lines",
    ]
    assert s.column_map.empty
    assert s.accounting.empty


def test_load_study_fills_accounting():
    s = es.load_study(_study())
    acc = s.accounting.set_index("table")
    assert acc["rows_read"].tolist() == [2, 3, 6]
    assert (acc["rows_read"] == acc["rows_kept"] + acc["rows_excluded"]).all()


def _big_study(n_sessions=4160):
    clients = [f"C{i}" for i in range(n_sessions // 20)]
    return Study(
        therapists=pd.DataFrame({"therapist_id": ["T1"]}),
        clients=pd.DataFrame({"client_id": clients, "therapist_id": "T1"}),
        sessions=pd.DataFrame(
            {
                "client_id": [c for c in clients for _ in range(20)],
                "session": list(range(1, 21)) * len(clients),
                "attended": 1,
            }
        ),
    )


def test_repr_html_shows_counts_as_integers():
    page = _big_study()._repr_html_()
    # The old display used ``:.3g`` for every value: 4160 became "4.16e+03".
    assert "e+03" not in page
    assert "<td>session_rows</td><td>4,160</td>" in page
    assert "<td>clients</td><td>208</td>" in page
    assert "<td>max</td><td>20</td>" in page
    assert "Study: 1 therapists, 208 clients, 4160 session rows" in repr(_big_study())


def test_repr_html_shows_shares_as_percentages():
    page = _study()._repr_html_()
    assert "<td>sessions.phq9</td><td>10.0%</td>" in page


def test_summary_counts_are_whole_numbers():
    s = _big_study().summary()
    counts = s.loc[s["section"] == "counts", "value"]
    assert (counts == counts.round()).all()
    assert s["value"].dtype == float
