"""Reading a delimited text file into a :class:`Table` of strings: delimiter, header and shape checks.

The delimiter is sniffed among ``,`` ``;`` tab and ``|`` with the standard
library's :class:`csv.Sniffer` (``.tsv`` files default to tab) unless it is
given. A first row with numbers where the names should be (in every column
whose other cells are numbers) is data, not a header: it is refused unless
``header=False`` says the file has none (columns are then named ``col0``, ``col1``, ...). Cells written with a decimal comma (``5,1`` in a
``;``-separated file) are refused rather than read as text.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a;b;c\\n1;2;x\\n3;4;y\\n")
    >>> t = read_table(path)
    >>> t.header, t.delimiter, t.column("c")
    (['a', 'b', 'c'], ';', ['x', 'y'])
"""

from __future__ import annotations

import csv
import os
import re

from .._core import as_path, is_number
from ..io.limits import read_limited

__all__ = ["Table", "read_table", "DELIMITERS"]

#: The delimiters sniffed (and accepted by ``--delimiter``), by the names a user may give them.
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "\\t": "\t", "|": "|"}

_SNIFF_CHARS = 16384
_SNIFF_BYTES = 8192
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")


class Table:
    """Rows of string cells with their column names and the file line of each row.

    Attributes:
        path: the file read (used in messages).
        header: column names.
        rows: lists of stripped cells, one list per data row.
        lines: the file line number of each row.
        delimiter: the field separator used.
        has_header: whether the names came from the file.
    """

    def __init__(self, path, header, rows, lines, delimiter=",", has_header=True):
        self.path, self.header, self.rows, self.lines = path, list(header), rows, list(lines)
        self.delimiter, self.has_header = delimiter, has_header

    def __len__(self):
        return len(self.rows)

    def index(self, name, role="column"):
        """Position of column ``name``; ValueError naming its ``role`` and listing the columns when absent."""
        if name not in self.header:
            raise ValueError(f"{self.path}: {role} {name!r} not found; available columns: {', '.join(self.header)}")
        return self.header.index(name)

    def column(self, name):
        """The cells of column ``name``, as a list of str."""
        j = self.index(name)
        return [row[j] for row in self.rows]

    def subset(self, keep):
        """A Table with only the rows whose positions are in ``keep`` (in that order)."""
        keep = list(keep)
        return Table(self.path, self.header, [self.rows[i] for i in keep], [self.lines[i] for i in keep],
                     self.delimiter, self.has_header)


def read_text(path, kind: str) -> str:
    """Return the text of a UTF-8 file, with one-sentence errors for the usual failures.

    Example:
        >>> read_text("no/such/file.csv", "CSV")
        Traceback (most recent call last):
        ...
        FileNotFoundError: CSV file not found: no/such/file.csv
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{kind} file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, expected a {kind} file")
    raw = read_limited(path, f"{kind} file")  # regular files only, size checked first
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(f"{path} is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise ValueError(f"{path} is not a text {kind} file (it contains binary data)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (undecodable byte at position {exc.start}); save it as UTF-8"
        ) from None


def check_column_names(path, header):
    """Refuse a header with an empty or repeated column name, naming the column(s)."""
    seen = {}
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"{path}: column {position} of the header has no name")
        if name in seen:
            raise ValueError(
                f"{path}: column name '{name}' appears twice in the header (columns {seen[name]} and {position})"
            )
        seen[name] = position



def resolve_delimiter(delimiter):
    """The one-character separator for a ``--delimiter`` value (``tab`` and ``\\t`` mean a tab), or None.

    Example:
        >>> resolve_delimiter("tab") == "\\t", resolve_delimiter(None)
        (True, None)
    """
    if delimiter is None:
        return None
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of ',', ';', 'tab' or '|', got {delimiter!r}")
    return DELIMITERS[delimiter]


def _sniff(path, text):
    if os.path.splitext(path)[1].lower() == ".tsv":
        return "\t"
    sample = "\n".join(text.splitlines()[:50])[:_SNIFF_CHARS]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or no separator the sniffer can be sure of
        return ","


def _records(path, text, delimiter):
    reader = csv.reader(text.splitlines(), delimiter=delimiter, skipinitialspace=True)
    rows, lines = [], []
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):  # blank lines carry no data
                rows.append([cell.strip() for cell in record])
                lines.append(reader.line_num)
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit
        raise ValueError(f"{path}, line {reader.line_num} cannot be read as CSV ({exc})") from None
    return rows, lines


def _looks_like_data(rows):
    """True when the first row has a number in every column whose other cells are all numbers (at least one)."""
    numeric = [j for j in range(len(rows[0]))
               if len(rows) > 1 and all(is_number(r[j]) for r in rows[1:] if j < len(r) and r[j])]
    return bool(numeric) and all(is_number(rows[0][j]) for j in numeric)


def _check_decimal_commas(path, rows, lines, delimiter):
    if delimiter == ",":
        return
    for row, line in zip(rows, lines):
        for cell in row:
            if _DECIMAL_COMMA.match(cell):
                raise ValueError(f"{path}, line {line} holds {cell!r}, a number with a decimal comma; "
                                 "save the file with decimal points")


def read_table(path, delimiter=None, header=True):
    """Read a delimited UTF-8 text file (BOM and CRLF line ends are fine) into a :class:`Table`.

    Args:
        path: the file.
        delimiter: ``","``, ``";"``, ``"\\t"`` (or ``"tab"``), ``"|"``, or None to sniff.
        header: False when the first row is data; columns are then ``col0``, ``col1``, ...

    Raises:
        ValueError: one sentence naming the file and line: empty file, numeric first row
            without ``header=False``, ragged rows, decimal commas, unnamed or repeated columns.
    """
    path = as_path("path", path)
    text = read_text(path, "CSV")
    delimiter = resolve_delimiter(delimiter) or _sniff(path, text)
    rows, lines = _records(path, text, delimiter)
    if not rows:
        raise ValueError(f"{path} is empty; expected a header row followed by data rows")
    if header:
        if _looks_like_data(rows):
            shown = delimiter.join(rows[0][:4]) + (", ..." if len(rows[0]) > 4 else "")
            raise ValueError(f"{path}: the first row ({shown}) holds numbers where the column names should be; "
                             "pass --no-header (header=False in Python) if the file has no header row")
        names, rows, lines = rows[0], rows[1:], lines[1:]
        check_column_names(path, names)
    else:
        names = [f"col{j}" for j in range(len(rows[0]))]
    if not rows:
        raise ValueError(f"{path} has a header but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(names):
            raise ValueError(f"{path}, line {line} has {len(row)} fields but the {'header' if header else 'first row'}"
                             f" has {len(names)}")
    _check_decimal_commas(path, rows, lines, delimiter)
    return Table(path, names, rows, lines, delimiter, header)
