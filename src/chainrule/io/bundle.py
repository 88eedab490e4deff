"""Validated, atomic safetensors files: named arrays plus a JSON document in the header.

This is the one file layout behind model files and training checkpoints:

* the tensors are stored as safetensors (little-endian, raw bytes);
* the header's ``__metadata__`` (string -> string, as safetensors requires)
  holds ``format`` (what the file is, e.g. ``"chainrule.model"``),
  ``format_version`` (an integer as text), ``checksum`` (SHA-256 of every
  array's name, dtype, shape and bytes, so flipped bits in the data are
  caught) and ``document``: one JSON object with everything else.

Reading checks, in order, the 8-byte length prefix, the JSON header, every
tensor entry against the file size, the format, the version and the
checksum, and reports the first problem in one ``ValueError`` sentence that
names the file. Nothing is unpickled and no code runs: arrays come from
``safetensors.numpy``, the rest from ``json``.

Writing goes to a temporary file in the same folder, which is fsynced and
then moved into place with ``os.replace`` (or hard-linked, when the target
must not be overwritten), so a reader sees either the old file or the new
one, never a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile

import numpy as np

from .._core import as_path, to_jsonable
from .limits import read_limited

__all__ = ["write_bundle", "read_bundle", "read_document", "require_safetensors", "check_target"]

# Largest header safetensors itself accepts; a larger length prefix means "not this format".
MAX_HEADER = 100_000_000
_DTYPES = {
    "F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8, "I16": np.int16,
    "I32": np.int32, "I64": np.int64, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32,
    "U64": np.uint64, "BOOL": np.bool_,
}
# First bytes of formats people often confuse with model files.
_SIGNATURES = {b"PK": "a ZIP archive (e.g. NumPy .npz or a PyTorch .pt file)", b"\x80": "a Python pickle",
               b"\x89HDF": "an HDF5 file (e.g. Keras .h5)", b"\x93NUMPY": "a NumPy .npy file",
               b"{": "a JSON text file", b"\x89PNG": "a PNG image"}


def require_safetensors():
    """The ``safetensors.numpy`` module, or an ImportError that says how to install it."""
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("saving and loading models needs the safetensors package; install it with "
                          "`pip install chainrule[io]` (or `pip install safetensors`)") from None
    return st


def _checksum(arrays):
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(memoryview(a).cast("B"))
    return "sha256:" + h.hexdigest()


def _contiguous(arrays):
    out = {}
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        out[name] = np.ascontiguousarray(a).reshape(a.shape)  # ascontiguousarray makes 0-d arrays 1-d
    return out


def write_bundle(path, arrays, fmt, version, document, overwrite=False):
    """Write ``arrays`` and the JSON ``document`` to ``path`` atomically.

    Args:
        path: target file.
        arrays: ``{name: ndarray}``.
        fmt, version: the ``format`` string and integer ``format_version`` recorded.
        document: JSON-serialisable dict stored in the header.
        overwrite: replace an existing file; otherwise FileExistsError.
    """
    st = require_safetensors()
    path = as_path("path", path)
    folder = check_target(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    arrays = _contiguous(arrays)
    meta = {"format": fmt, "format_version": str(int(version)), "checksum": _checksum(arrays),
            "document": json.dumps(to_jsonable(document), allow_nan=True)}
    payload = st.save(arrays, metadata=meta)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    except OSError as exc:  # no permission, a read-only or special file system: name the user's path
        raise type(exc)(f"cannot write {path}: cannot create a file in {folder} ({exc.strerror})") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; a saved model should not be
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        _move_into_place(tmp, path, overwrite)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_target(path):
    """The folder a file ``path`` would be written into; raises naming ``path`` when it cannot be one.

    Called before the work whose result is saved (a training run), so a mistyped folder fails at
    once instead of after the first epoch.

    Example:
        >>> check_target("/no/such/folder/model.safetensors")
        Traceback (most recent call last):
        ...
        FileNotFoundError: cannot write /no/such/folder/model.safetensors: the folder /no/such/folder does not exist; create it first
    """
    path = as_path("path", path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name such as "
                                f"{os.path.join(path, 'model.safetensors')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist; create it first")
    return folder


def _umask():
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _move_into_place(tmp, path, overwrite):
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails atomically if path appeared meanwhile: never clobber
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it") from None
    except OSError:  # file systems without hard links
        if os.path.exists(path):
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it") from None
        os.replace(tmp, path)


def _read_bytes(path):
    path = as_path("path", path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a model file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    return read_limited(path, "model or checkpoint file")


def _signature(raw):
    """What a file starting with ``raw`` looks like, or None."""
    return next((what for sig, what in _SIGNATURES.items() if raw.startswith(sig)), None)


def _not_this_format(path, raw):
    what = _signature(raw)
    if what:
        return ValueError(f"{path} is not a safetensors file: it looks like {what}")
    return ValueError(f"{path} is not a safetensors file: its first 8 bytes are not a plausible header length")


def _parse_header(path, raw):
    if len(raw) < 8:
        if not raw:
            raise ValueError(f"{path} is empty; expected a safetensors file")
        raise ValueError(f"{path} is truncated: {len(raw)} bytes is shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER or n < 2 or (8 + n > len(raw) and _signature(raw)):
        raise _not_this_format(path, raw)
    if 8 + n > len(raw):
        raise ValueError(f"{path} is truncated: its header needs {n} bytes but only {len(raw) - 8} follow")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError(f"{path} is corrupt or not a safetensors file: its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path} is corrupt: its header is not a JSON object")
    return header, len(raw) - 8 - n


def _check_entries(path, header, data_len):
    end = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        ok = (isinstance(e, dict) and e.get("dtype") in _DTYPES and isinstance(e.get("shape"), list)
              and all(isinstance(s, int) and s >= 0 for s in e["shape"])
              and isinstance(e.get("data_offsets"), list) and len(e["data_offsets"]) == 2)
        if not ok:
            raise ValueError(f"{path} is corrupt: the header entry for {name!r} is malformed")
        lo, hi = e["data_offsets"]
        # Python ints: a claimed shape element beyond int64 must not overflow, just fail the comparison.
        size = math.prod(e["shape"]) * np.dtype(_DTYPES[e["dtype"]]).itemsize
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi and hi - lo == size):
            raise ValueError(f"{path} is corrupt: the byte range of {name!r} does not match its shape and dtype")
        end = max(end, hi)
    if end > data_len:
        raise ValueError(f"{path} is truncated: the arrays need {end} bytes of data but only {data_len} are present")


def _metadata(path, header, fmt, max_version):
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or "format" not in meta:
        raise ValueError(f"{path} is a safetensors file but not a chainrule file (no 'format' entry in its metadata)")
    if not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"{path} is corrupt: its metadata values must all be text, as safetensors requires")
    if meta["format"] != fmt:
        raise ValueError(f"{path} holds a {meta['format']!r}, not a {fmt!r}")
    try:
        version = int(meta.get("format_version", ""))
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"{path} has an unreadable format_version {meta.get('format_version')!r}") from None
    if version > max_version:
        raise ValueError(f"{path} uses format version {version}, newer than the {max_version} this chainrule "
                         "reads; upgrade chainrule to load it")
    try:
        document = json.loads(meta.get("document", "{}"))
    except (ValueError, TypeError, RecursionError):
        raise ValueError(f"{path} is corrupt: its JSON document does not parse") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} is corrupt: its JSON document is not an object")
    return meta, document


def read_document(path, fmt, max_version):
    """The JSON document of a bundle (header only is validated; arrays are not decoded)."""
    path = as_path("path", path)
    raw = _read_bytes(path)
    header, data_len = _parse_header(path, raw)
    _check_entries(path, header, data_len)
    return _metadata(path, header, fmt, max_version)[1]


def read_bundle(path, fmt, max_version):
    """``(arrays, document)`` from a file written by :func:`write_bundle`, fully validated.

    Raises:
        FileNotFoundError: no such file.
        ValueError: one sentence naming the file and the problem (truncated,
            corrupt, wrong format, newer version, checksum mismatch).
    """
    st = require_safetensors()
    path = as_path("path", path)
    raw = _read_bytes(path)
    header, data_len = _parse_header(path, raw)
    _check_entries(path, header, data_len)
    meta, document = _metadata(path, header, fmt, max_version)
    try:
        arrays = st.load(raw)
    except MemoryError:
        raise ValueError(f"{path} holds arrays too large to load in memory") from None
    except Exception as exc:  # safetensors raises its own error type; report it as ours
        raise ValueError(f"{path} is corrupt: safetensors could not decode it ({exc})") from None
    if meta.get("checksum") != _checksum(arrays):
        raise ValueError(f"{path} is corrupt: its arrays do not match the checksum stored with them")
    return arrays, document
