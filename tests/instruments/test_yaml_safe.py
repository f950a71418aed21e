"""Instrument YAML is read with the safe loader (issue 18): tags that would build Python
objects or run code are refused with a typed error, and nothing is run."""

from __future__ import annotations

import time

import pytest

from engagestats.errors import InstrumentError
from engagestats.instruments import load_instrument

pytest.importorskip("yaml")

BODY = "items: 4\nresponse_range: [1, 5]\nsubscales: {total: [1, 2, 3, 4]}\n"


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system [{cmd!r}]",
        "!!python/object/new:subprocess.Popen [[touch, {path}]]",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_are_refused_and_never_run(tmp_path, tag):
    canary = tmp_path / "canary"
    f = tmp_path / "mood.yaml"
    f.write_text(
        "name: " + tag.format(cmd=f"touch {canary}", path=str(canary)) + "\n" + BODY,
        encoding="utf-8",
    )
    with pytest.raises(InstrumentError, match=r"cannot parse mood\.yaml"):
        load_instrument(f)
    assert not canary.exists()


def test_alias_bomb_is_cheap(tmp_path):
    """'Billion laughs': the safe loader shares aliased nodes, so nothing blows up."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\nname: bomb\n" + BODY, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InstrumentError):  # unknown keys a0..a8
        load_instrument(f)
    assert time.perf_counter() - start < 5
