"""pyyaml is optional (the ``yaml`` extra): the error names the extra that installs it."""

import builtins
import re
import tomllib
from pathlib import Path

import pytest

from engagestats.errors import InstrumentError
from engagestats.instruments import load_instrument
from engagestats.instruments.files import YAML_MISSING

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_yaml(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "yaml" or name.startswith("yaml."):
            raise ModuleNotFoundError("No module named 'yaml'", name="yaml")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "yaml", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_yaml_file_without_pyyaml_names_the_extra(tmp_path, no_yaml):
    f = tmp_path / "mood.yaml"
    f.write_text("name: mood\nitems: 4\nresponse_range: [1, 5]\n")
    with pytest.raises(InstrumentError) as err:
        load_instrument(f)
    msg = str(err.value)
    assert msg.startswith("mood.yaml: ")
    assert 'pip install "engagestats[yaml]"' in msg
    assert "pip install pyyaml" in msg
    assert isinstance(err.value.__cause__, ImportError)


def test_json_and_toml_need_no_pyyaml(tmp_path, no_yaml):
    j = tmp_path / "mood.json"
    j.write_text('{"name": "mood", "items": 4, "response_range": [1, 5]}')
    t = tmp_path / "mood.toml"
    t.write_text('name = "mood"\nitems = 4\nresponse_range = [1, 5]\n')
    assert load_instrument(j).items == load_instrument(t).items


def test_the_named_extra_exists_and_installs_pyyaml():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (name,) = re.findall(r"engagestats\[(\w+)\]", YAML_MISSING)
    assert any(req.lower().startswith("pyyaml") for req in extras[name])
    # pyyaml is not a core dependency: the extra is what makes it available.
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(req.lower().startswith("pyyaml") for req in core)
