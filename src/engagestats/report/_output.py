"""The output folder: write only where it is safe, delete only what the report wrote.

A folder the report writes into gets a manifest, ``.engagestats-report.json``,
listing every file written. A later run into the same folder first removes the
files of that list (so no stale table survives a change), and nothing else:

- a missing or empty folder is used as it is;
- a non-empty folder without a manifest is refused (it is not a report folder);
- a planned output that exists but is not in the manifest is refused before
  anything is written (never overwrite a file the report did not write);
- symbolic links are never followed, and manifest entries outside the folder are
  ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from ..errors import EngageStatsError

__all__ = ["MANIFEST", "OutputFolderError", "check_out", "clear_previous", "write_manifest"]

MANIFEST = ".engagestats-report.json"
_TAG = "engagestats report"


class OutputFolderError(EngageStatsError):
    """The ``--out`` folder cannot be written safely."""


def _previous(out: Path) -> list[str] | None:
    """The files of an earlier run's manifest; None when the folder has no manifest."""
    path = out / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise OutputFolderError(
            f"{out}: the report manifest {MANIFEST} is unreadable; remove the folder yourself "
            "or choose another --out folder"
        ) from None
    if not isinstance(data, dict) or data.get("written_by") != _TAG:
        return None
    files = data.get("files", [])
    return [f for f in files if isinstance(f, str) and _inside(f)]


def _inside(rel: str) -> bool:
    p = PurePosixPath(rel)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in rel and rel not in ("", ".")


def check_out(out: Path, planned: Iterable[str] | None = None) -> list[str]:
    """Refuse an unsafe output folder; return the files an earlier report wrote there."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputFolderError(f"--out {out}: exists and is not a folder; choose a folder")
    if not out.exists():
        return []
    previous = _previous(out)
    if previous is None:
        if any(out.iterdir()):
            raise OutputFolderError(
                f"--out {out}: the folder is not empty and was not written by engagestats "
                "report (no .engagestats-report.json); choose a new or empty folder, nothing "
                "was written"
            )
        return []
    known = set(previous)
    for rel in planned or []:
        target = out / rel
        if target.is_symlink():
            raise OutputFolderError(f"--out {out}: {rel} is a symbolic link; nothing was written")
        if target.exists() and rel not in known:
            raise OutputFolderError(
                f"--out {out}: {rel} exists and was not written by engagestats report; "
                "move it or choose another folder, nothing was written"
            )
    for sub in ("tables", "figures"):
        if (out / sub).is_symlink() or ((out / sub).exists() and not (out / sub).is_dir()):
            raise OutputFolderError(f"--out {out}: {sub} is not a plain folder")
    return previous


def clear_previous(out: Path, previous: Iterable[str]) -> int:
    """Remove the regular files an earlier run listed in its manifest; return how many."""
    removed = 0
    for rel in previous:
        target = out / rel
        if target.is_symlink() or not target.is_file():
            continue
        if out.resolve() not in target.resolve().parents:
            continue
        target.unlink()
        removed += 1
    return removed


def write_manifest(out: Path, files: Iterable[str]) -> None:
    data = {"written_by": _TAG, "files": sorted(set(files))}
    (out / MANIFEST).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
