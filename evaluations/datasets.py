"""Reading dataset rows from what a client sends: JSON rows, a CSV file with `inputs.<name>` /
`expected.<name>` columns, or a JSONL file with one `{"inputs": {...}, "expected": {...}}` object a line.

Each problem is `{path, message}` naming the row (`rows[i]`, 0-based in this upload) and the field; a file's
messages say the line too.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from core.errors import DomainError

# A file larger than this is refused before it is read (10,000 rows of a few hundred bytes fit easily).
DATASET_MAX_FILE_BYTES = 20 * 1024 * 1024
ROW_FIELDS = ("inputs", "expected")


@dataclass
class ParsedRows:
    rows: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    issues: list[dict[str, str]] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.issues.append({"path": path, "message": message})


def _row_check(value: Any, at: str, parsed: ParsedRows, where: str = "") -> None:
    if not isinstance(value, dict):
        parsed.problem(at, f"{where}a row is an object with `inputs` and `expected`")
        return
    for key in sorted(set(value) - set(ROW_FIELDS)):
        parsed.problem(f"{at}.{key}", f"{where}unknown field (a row has `inputs` and `expected`)")
    if "inputs" not in value:
        parsed.problem(f"{at}.inputs", f"{where}required")
    row: dict[str, dict[str, Any]] = {}
    for name in ROW_FIELDS:
        part = value.get(name, {})
        if not isinstance(part, dict):
            parsed.problem(f"{at}.{name}", f"{where}must be an object of named values")
        elif not all(isinstance(key, str) and key for key in part):
            parsed.problem(f"{at}.{name}", f"{where}every name must be non-empty text")
        else:
            row[name] = part
    parsed.rows.append(row)


def rows_from_json(value: Any) -> ParsedRows:
    parsed = ParsedRows()
    if not isinstance(value, list) or not value:
        parsed.problem("rows", "a non-empty list of rows")
        return parsed
    for i, row in enumerate(value):
        _row_check(row, f"rows[{i}]", parsed)
    return parsed


def rows_from_jsonl(text: str) -> ParsedRows:
    parsed = ParsedRows()
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    for i, (number, line) in enumerate(lines):
        try:
            value = json.loads(line)
        except ValueError as exc:
            parsed.problem(f"rows[{i}]", f"line {number}: not JSON ({exc.msg})")
            parsed.rows.append({})
            continue
        _row_check(value, f"rows[{i}]", parsed, where=f"line {number}: ")
    if not lines:
        parsed.problem("file", "the file has no rows")
    return parsed


def rows_from_csv(text: str) -> ParsedRows:
    """Cells are text; an empty cell leaves the value out (an input with a default then takes it)."""
    parsed = ParsedRows()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        parsed.problem("file", "the file has no header line")
        return parsed
    columns: list[tuple[str, str]] = []
    for number, title in enumerate(header, start=1):
        part, _, name = title.strip().partition(".")
        if part not in ROW_FIELDS or not name:
            parsed.problem("file", f"column {number} ({title!r}): name it inputs.<name> or expected.<name>")
        columns.append((part, name))
    if parsed.issues:
        return parsed
    for i, cells in enumerate(reader):
        line = reader.line_num
        if len(cells) != len(columns):
            parsed.problem(f"rows[{i}]", f"line {line}: {len(cells)} cells for {len(columns)} columns")
        row: dict[str, dict[str, Any]] = {"inputs": {}, "expected": {}}
        for (part, name), cell in zip(columns, cells, strict=False):
            if cell != "":
                row[part][name] = cell
        parsed.rows.append(row)
    if not parsed.rows and not parsed.issues:
        parsed.problem("file", "the file has no rows")
    return parsed


def rows_from_upload(upload: UploadedFile) -> ParsedRows:
    """Rows from an uploaded file, refused unread when it is over DATASET_MAX_FILE_BYTES."""
    if upload.size is not None and upload.size > DATASET_MAX_FILE_BYTES:
        raise DomainError(
            "The file is too large.",
            errors=[{"path": "file", "message": f"at most {DATASET_MAX_FILE_BYTES} bytes"}],
        )
    return rows_from_file(upload.name or "", upload.read())


def rows_from_file(name: str, content: bytes) -> ParsedRows:
    """Rows from an uploaded file: JSONL when its name ends .jsonl (or .ndjson), else CSV."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed = ParsedRows()
        parsed.problem("file", "the file is not UTF-8 text")
        return parsed
    if name.lower().endswith((".jsonl", ".ndjson")):
        return rows_from_jsonl(text)
    return rows_from_csv(text)
