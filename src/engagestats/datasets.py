"""The bundled sample study: :func:`load_sample`.

The sample is a simulated study (``engagestats.simulate.SAMPLE_SETTINGS``)
stored as three CSV files and a ``datapackage.json`` codebook. It is read from
disk, never regenerated, so it works offline and is identical on every
machine.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import EngageStatsError
from .study import Study

__all__ = ["SampleDataMissingError", "load_sample", "sample_folder"]

_FILES = ("therapists.csv", "clients.csv", "sessions.csv", "datapackage.json")


class SampleDataMissingError(EngageStatsError, FileNotFoundError):
    """The bundled sample data could not be found (a broken installation)."""


def _complete(folder: Path) -> bool:
    return folder.is_dir() and all((folder / name).is_file() for name in _FILES)


def sample_folder() -> Path:
    """The folder that holds the bundled sample study.

    Returns
    -------
    Path
        ``engagestats/_sample_data`` inside an installed wheel, or, for an
        editable install from a clone, the repository's ``data/sample``.

    Raises
    ------
    SampleDataMissingError
        When neither folder holds the four sample files.

    Notes
    -----
    Wheels carry the sample as package data: ``pyproject.toml`` force-includes
    ``data/sample`` as ``engagestats/_sample_data``, located here with
    :func:`importlib.resources.files`. An editable install (``pip install -e
    .``) has no such folder, so the function falls back to ``data/sample``
    relative to the package source (``src/engagestats/../../data/sample``).

    Examples
    --------
    >>> sorted(p.name for p in sample_folder().glob("*.csv"))
    ['clients.csv', 'sessions.csv', 'therapists.csv']
    """
    candidates = []
    packaged = resources.files("engagestats") / "_sample_data"
    if isinstance(packaged, Path):
        candidates.append(packaged)
    candidates.append(Path(__file__).resolve().parents[2] / "data" / "sample")
    for folder in candidates:
        if _complete(folder):
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise SampleDataMissingError(
        f"The bundled sample data were not found (looked in: {tried}). Reinstall "
        "engagestats, or from a clone run `make sample` to regenerate data/sample/."
    )


def load_sample() -> Study:
    """Load the bundled sample study, offline.

    Returns
    -------
    Study
        30 therapists, 330 clients and several thousand session rows,
        simulated by :func:`engagestats.simulate_study` with
        ``engagestats.simulate.SAMPLE_SETTINGS`` and read back with
        :func:`engagestats.io.load_study`. The columns are described in
        ``docs/data-format.md`` and in the sample's ``datapackage.json``.

    Raises
    ------
    SampleDataMissingError
        When the sample files are missing (see :func:`sample_folder`).

    Notes
    -----
    The data are simulated, not collected from real clients; the generating
    model and its calibration are documented in
    :class:`engagestats.simulate.SimulationParams`. ``make sample`` rewrites
    the files byte for byte, and the test suite checks that
    ``load_sample()`` equals ``simulate_study(**SAMPLE_SETTINGS)``.

    Examples
    --------
    >>> study = load_sample()
    >>> study
    Study: 30 therapists, 330 clients, ... session rows
    >>> study.clients["end_reason"].value_counts().index.tolist()
    ['completed', 'dropout']
    """
    from .io import load_study

    return load_study(sample_folder())
