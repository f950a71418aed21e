"""Write the sample-sized example exports: the sample study as Qualtrics and REDCap write it.

    python scripts/make_example_exports.py            # rewrite the three files
    python scripts/make_example_exports.py --check    # exit 1 if a committed file differs

The files (under ``src/engagestats/io/_examples/``, read with
``engagestats.io.example_export(name)``) hold the attended sessions of the first five
therapists of ``data/sample`` (55 clients) with the PHQ-9, so that a growth model can be fitted
on them (docs/guide/export-to-growth-model.md, tests/test_docs.py):

* ``qualtrics_sample.csv``: a current Qualtrics "Download data table" CSV (UTF-8 with BOM,
  every field quoted, CRLF, three header rows, the 17 metadata columns, numeric choice codes
  1-4 for the PHQ-9's 0-3, a matrix question exported as ``PHQ9_1 ... PHQ9_9``, embedded data
  ``therapist_id``, ``session``, ``age``, ``gender``; ``ExternalReference`` is the client);
* ``redcap_sample_export.csv``: a REDCap raw-data export (UTF-8, LF, minimal quoting) of a
  longitudinal project: one ``intake_arm_1`` row per record, one ``session_<n>_arm_1`` row per
  attended session with the survey timestamp and the completion status;
* ``redcap_sample_dictionary.csv``: its data dictionary (UTF-8 with BOM, as REDCap writes it).

Deterministic: the same sample gives the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
OUT = ROOT / "src" / "engagestats" / "io" / "_examples"
THERAPISTS = ("T01", "T02", "T03", "T04", "T05")
ITEMS = [f"phq9_{i}" for i in range(1, 10)]
GENDERS = {"woman": "1", "man": "2", "nonbinary": "3"}

PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ9_TEXTS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
PHQ9_CHOICES = "0, Not at all | 1, Several days | 2, More than half the days | 3, Nearly every day"

QUALTRICS_META = [
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
EMBEDDED = ["therapist_id", "session", "age", "gender"]


def _read(name: str) -> list[dict[str, str]]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _sample() -> tuple[dict[str, dict[str, str]], list[dict[str, str]]]:
    clients = {r["client_id"]: r for r in _read("clients.csv") if r["therapist_id"] in THERAPISTS}
    sessions = [
        r
        for r in _read("sessions.csv")
        if r["client_id"] in clients and r["attended"] == "1" and any(r[i] for i in ITEMS)
    ]
    return clients, sessions


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _csv(rows: list[list[str]], *, quote_all: bool, crlf: bool, bom: bool) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\r\n" if crlf else "\n",
    )
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def qualtrics() -> bytes:
    clients, sessions = _sample()
    names = [m[0] for m in QUALTRICS_META] + [i.upper() for i in ITEMS] + EMBEDDED
    texts = [m[1] for m in QUALTRICS_META]
    texts += [f"{PHQ9_STEM} - {t}" for t in PHQ9_TEXTS] + EMBEDDED
    import_ids = [f'{{"ImportId":"{m[2]}"}}' for m in QUALTRICS_META]
    import_ids += [f'{{"ImportId":"QID1_{i}"}}' for i in range(1, 10)]
    import_ids += [f'{{"ImportId":"{e}"}}' for e in EMBEDDED]
    rows = [names, texts, import_ids]
    for r in sessions:
        h = _digest(r["client_id"], r["session"])
        start_s = int(h[:4], 16) % 36000 + 8 * 3600  # between 08:00 and 18:00
        duration = 120 + int(h[4:7], 16) % 480
        end_s = start_s + duration
        start = f"{r['date']} {start_s // 3600:02d}:{start_s % 3600 // 60:02d}:{start_s % 60:02d}"
        end = f"{r['date']} {end_s // 3600:02d}:{end_s % 3600 // 60:02d}:{end_s % 60:02d}"
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        response_id = "R_" + "".join(
            alphabet[int(h[8 + 2 * k : 10 + 2 * k], 16) % 62] for k in range(15)
        )
        client = clients[r["client_id"]]
        meta = [start, end, "0", "", "100", str(duration), "1", end, response_id, "", "", "",
                r["client_id"], "", "", "anonymous", "EN"]  # fmt: skip
        items = [str(int(r[i]) + 1) if r[i] else "" for i in ITEMS]  # Qualtrics codes 1-4
        embedded = [client["therapist_id"], r["session"], client["age"], client["gender"]]
        rows.append(meta + items + embedded)
    return _csv(rows, quote_all=True, crlf=True, bom=True)


def redcap_export() -> bytes:
    clients, sessions = _sample()
    header = ["record_id", "redcap_event_name", "therapist_id", "age", "gender", "intake_complete",
              "session_survey_timestamp", *ITEMS, "session_survey_complete"]  # fmt: skip
    rows = [header]
    by_client: dict[str, list[dict[str, str]]] = {}
    for r in sessions:
        by_client.setdefault(r["client_id"], []).append(r)
    for client_id, client in clients.items():
        record = "R" + client_id.removeprefix("C")
        blank = [""] * (len(header) - 6)
        rows.append([record, "intake_arm_1", client["therapist_id"], client["age"],
                     GENDERS[client["gender"]], "2", *blank])  # fmt: skip
        for r in by_client.get(client_id, []):
            h = _digest(r["client_id"], r["session"])
            s = int(h[:4], 16) % 36000 + 8 * 3600
            stamp = f"{r['date']} {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
            complete = "2" if all(r[i] for i in ITEMS) else "1"  # REDCap: 1 unverified
            rows.append([record, f"session_{r['session']}_arm_1", "", "", "", "", stamp,
                         *(r[i] for i in ITEMS), complete])  # fmt: skip
    return _csv(rows, quote_all=False, crlf=False, bom=False)


def redcap_dictionary() -> bytes:
    header = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
              "Choices, Calculations, OR Slider Labels", "Field Note",
              "Text Validation Type OR Show Slider Number", "Text Validation Min",
              "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
              "Required Field?", "Custom Alignment", "Question Number (surveys only)",
              "Matrix Group Name", "Matrix Ranking?", "Field Annotation"]  # fmt: skip

    def field(name, form, kind, label, choices="", validation="", lo="", hi="", matrix=""):
        return [name, form, "", kind, label, choices, "", validation, lo, hi, "", "", "", "", "",
                matrix, "", ""]  # fmt: skip

    genders = " | ".join(f"{code}, {label}" for label, code in GENDERS.items())
    rows = [
        header,
        field("record_id", "intake", "text", "Record ID"),
        field("therapist_id", "intake", "text", "Therapist"),
        field("age", "intake", "text", "Age at intake", validation="integer", lo="16", hi="99"),
        field("gender", "intake", "radio", "Gender", choices=genders),
    ]
    rows += [
        field(item, "session_survey", "radio", text, choices=PHQ9_CHOICES, matrix="phq")
        for item, text in zip(ITEMS, PHQ9_TEXTS, strict=True)
    ]
    return _csv(rows, quote_all=False, crlf=False, bom=True)


FILES = {
    "qualtrics_sample.csv": qualtrics,
    "redcap_sample_export.csv": redcap_export,
    "redcap_sample_dictionary.csv": redcap_dictionary,
}


def main(argv: list[str]) -> int:
    stale = []
    for name, build in FILES.items():
        content, path = build(), OUT / name
        if "--check" in argv:
            if not path.is_file() or path.read_bytes() != content:
                stale.append(name)
        else:
            path.write_bytes(content)
            print(f"wrote {path.relative_to(ROOT)} ({len(content):,} bytes)")
    if stale:
        print("stale: " + ", ".join(stale) + " (run python scripts/make_example_exports.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
