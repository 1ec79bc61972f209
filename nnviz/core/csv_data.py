"""Reading a user's CSV file into features and targets, refusing broken files clearly.

``read_csv_table(path)`` reads and checks the text (size, binary content,
encoding, header, ragged rows); ``table_arrays(table, target, features, task)``
turns it into float features, labels or targets and class names.  Every
problem is a SpecError naming the data-set field (``dataset.path``,
``dataset.target``, ``dataset.features``, ``dataset.task``) and, where it
applies, the line and column, so a user can find it in the file.

Task inference: a target with text labels is classification; a numeric target
is regression, unless it holds whole numbers with at most
``MAX_INFERRED_CLASSES`` distinct values (0/1/2 labels), which are classes.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass

import numpy as np

from .errors import SpecError

__all__ = ["CsvTable", "read_csv_table", "table_arrays", "MAX_CSV_BYTES"]

MAX_CSV_BYTES = 16 * 1024 * 1024      # the text; parsed cells take about ten times as much
MAX_INFERRED_CLASSES = 10
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
DELIMITERS = (",", ";", "\t")
SHOWN = 5                               # cells listed in a message


@dataclass(frozen=True)
class CsvTable:
    """The checked text of a CSV file: column names, rows of cells, line of each row."""

    path: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]              # 1-based line number of each row in the file

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def read_csv_table(path: str, field: str = "dataset.path") -> CsvTable:
    """Read ``path`` (comma, semicolon or tab separated, a header row first)."""
    text = _read_text(path, field)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise SpecError(field, f"{path!r} is empty", "choose a CSV file with a header row and data")
    delimiter = max(DELIMITERS, key=lines[first].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header, rows, numbers = None, [], []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue                  # blank lines, e.g. at the end
            if header is None:
                header = _check_header(row, path, reader.line_num, field)
                continue
            if len(row) != len(header):
                raise SpecError(field, f"line {reader.line_num} has {len(row)} values but the "
                                f"header has {len(header)} columns",
                                "every row needs one value per column; check for missing or "
                                "extra separators")
            rows.append(tuple(cell.strip() for cell in row))
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise SpecError(field, f"line {reader.line_num} cannot be read: {exc}",
                        'check the quotes on that line and above: every opening " needs '
                        "its closing one") from None
    if not rows:
        raise SpecError(field, f"{path!r} has a header but no data rows",
                        "add one row per sample below the header")
    return CsvTable(path, header, tuple(rows), tuple(numbers))


def _read_text(path: str, field: str) -> str:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SpecError(field, f"no file {path!r}",
                        "check the name; a relative path is read beside the experiment file") \
            from None
    except OSError as exc:
        raise SpecError(field, f"cannot read {path!r}: {exc.strerror or exc}",
                        "check the path and its permissions") from None
    if stat.S_ISDIR(info.st_mode):
        raise SpecError(field, f"{path!r} is a directory, not a CSV file", "choose a .csv file")
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(field, f"{path!r} is not a regular file", "choose a .csv file")
    if info.st_size > MAX_CSV_BYTES:
        raise SpecError(field, f"{path!r} is too large to load ({info.st_size / 2**20:.0f} MB; "
                        f"at most {MAX_CSV_BYTES // 2**20} MB)",
                        "use a sample of the rows, or fewer columns")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise SpecError(field, f"cannot read {path!r}: {exc.strerror or exc}",
                        "check the path and its permissions") from None
    if len(data) > MAX_CSV_BYTES:     # grew after stat
        raise SpecError(field, f"{path!r} is larger than {MAX_CSV_BYTES // 2**20} MB",
                        "use a sample of the rows, or fewer columns")
    if b"\0" in data:
        raise SpecError(field, f"{path!r} is not a text file (it contains binary data)",
                        "choose a CSV file: text with one sample per line")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SpecError(field, f"{path!r} is not UTF-8 text (line {line})",
                        "save the file as UTF-8 CSV") from None


def _check_header(row: list[str], path: str, line: int, field: str) -> tuple[str, ...]:
    names = tuple(cell.strip() for cell in row)
    for i, name in enumerate(names):
        if not name:
            raise SpecError(field, f"column {i + 1} of the header (line {line}) has no name",
                            "the first row must name every column")
        if name in names[:i]:
            raise SpecError(field, f"the header (line {line}) names two columns {name!r}",
                            "give every column its own name")
    if len(names) < 2:
        raise SpecError(field, f"{path!r} has only one column ({names[0]!r})",
                        "a data set needs feature columns and a target column; is the "
                        "separator a comma, semicolon or tab?")
    return names


def table_arrays(table: CsvTable, target: str = "", features: list[str] | None = None,
                 task: str | None = None):
    """(X float64 (N, d), y, class names, feature names, task) from a checked table.

    ``target`` "" is the last column; ``features`` None all the other columns;
    ``task`` None is inferred.  Classification: y int labels 0..k-1 and the
    class names (sorted); regression: y float64 (N, 1) and no class names.
    """
    columns = table.columns
    target = target or columns[-1]
    if target not in columns:
        raise SpecError("dataset.target", f"no column {target!r} in the file",
                        "choose one of: " + ", ".join(columns))
    if features is None:
        features = [c for c in columns if c != target]
    for i, name in enumerate(features):
        where = f"dataset.features[{i}]"
        if name not in columns:
            raise SpecError(where, f"no column {name!r} in the file",
                            "choose among: " + ", ".join(c for c in columns if c != target))
        if name == target:
            raise SpecError(where, f"{name!r} is the target column",
                            "a column cannot be both a feature and the target")
        if name in features[:i]:
            raise SpecError(where, f"{name!r} is listed twice", "list each feature once")
    if not features:
        raise SpecError("dataset.features", "no feature columns", "list at least one column")
    _check_missing(table, [*features, target])
    X = np.column_stack([_numbers(table, name, "dataset.features") for name in features])
    labels = table.column(target)
    numeric = _all_numeric(labels)
    if task is None:
        task = "classification" if not numeric or _few_whole_numbers(labels) else "regression"
    if task == "regression":
        if not numeric:
            bad = next(i for i, v in enumerate(labels) if not _is_number(v))
            raise SpecError("dataset.task", f"regression needs a numeric target, but column "
                            f"{target!r} has {labels[bad]!r} at line {table.lines[bad]}",
                            'use "task": "classification" for labels')
        return X, _numbers(table, target, "dataset.target")[:, None], (), tuple(features), task
    names, y = _classes(labels, numeric)
    if len(names) < 2:
        raise SpecError("dataset.target", f"column {target!r} has only one class "
                        f"({names[0]!r}): nothing to tell apart",
                        "choose another target, or add samples of other classes")
    return X, y, names, tuple(features), task


def _check_missing(table: CsvTable, names: list[str]) -> None:
    """SpecError listing missing or NaN cells (how many and where): never train on NaN."""
    where = []
    for name in names:
        for i, cell in enumerate(table.column(name)):
            if cell.lower() in MISSING or (_is_number(cell) and not np.isfinite(float(cell))):
                where.append((table.lines[i], name))
    if where:
        shown = ", ".join(f"line {line} column {name!r}" for line, name in sorted(where)[:SHOWN])
        more = f" and {len(where) - SHOWN} more" if len(where) > SHOWN else ""
        raise SpecError("dataset.path", f"{len(where)} missing or NaN cell"
                        f"{'s' * (len(where) > 1)}: {shown}{more}",
                        "fill them in or delete those rows; nnviz never trains on missing values")


def _numbers(table: CsvTable, name: str, field: str) -> np.ndarray:
    cells = table.column(name)
    try:
        return np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        bad = next(i for i, c in enumerate(cells) if not _is_number(c))
        raise SpecError(field, f"column {name!r} is not numeric: {cells[bad]!r} at line "
                        f"{table.lines[bad]}",
                        "features must be numbers; leave text columns out of dataset.features, "
                        "or make the column the target") from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _all_numeric(cells: list[str]) -> bool:
    return all(_is_number(c) for c in cells)


def _few_whole_numbers(cells: list[str]) -> bool:
    values = {float(c) for c in cells}
    return len(values) <= MAX_INFERRED_CLASSES and all(v.is_integer() for v in values)


def _classes(labels: list[str], numeric: bool) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted class names (numerically for numbers) and int labels."""
    if numeric:
        keys = sorted({float(v) for v in labels})
        index = {k: i for i, k in enumerate(keys)}
        names = tuple(f"{k:g}" for k in keys)
        return names, np.array([index[float(v)] for v in labels], dtype=np.int64)
    names = tuple(sorted(set(labels)))
    index = {k: i for i, k in enumerate(names)}
    return names, np.array([index[v] for v in labels], dtype=np.int64)
