"""Compile, cache and load the fused C kernels on first use.

The C source of a rule's kernels is generated (:mod:`.codegen`) for one storage variant at
a time and built into one shared library (:func:`.launch.library`), so a process compiles
only the kernels of the optimizers it uses, for the dtypes it uses. It is built with
the system C compiler (``$CC``, default ``gcc``) and the flags in :data:`CFLAGS` into a
per-user cache directory (``$MXOPT_CACHE_DIR``, default ``~/.cache/mxopt``), under a file
name keyed by a hash of the source, the compiler, the flags and the CPU's feature flags
(``-march=native``). It is written atomically (a temp file in the same directory, then
``os.replace``), so concurrent processes never load a half-written file. Nothing is compiled
at import time: :func:`load` builds lazily and returns ``None`` (after one warning per
compiler/cache setting) when the compiler is missing or fails, and callers then use the
reference path.

>>> from mxopt.optimizer.fused import build, engine
>>> from mxopt.optimizer.fused.codegen import render
>>> lib = build.load(render(engine.kernels()[:1]))  # compiled once, then reused
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

from .codegen import ABI_VERSION

__all__ = ["CFLAGS", "cache_dir", "load"]

CFLAGS: tuple[str, ...] = (
    "-O3",
    "-march=native",
    "-fopenmp",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-shared",
    "-fPIC",
)
_lock = threading.Lock()
_loaded: dict[tuple[str, str, int], ctypes.CDLL | None] = {}
_warned: set[tuple[str, str]] = set()


def cache_dir() -> Path:
    """Where compiled kernels live: ``$MXOPT_CACHE_DIR`` or ``~/.cache/mxopt``."""
    env = os.environ.get("MXOPT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "mxopt"


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _library_path(source: bytes, cc: str) -> Path:
    key = hashlib.sha256()
    for part in (source, cc.encode(), " ".join(CFLAGS).encode(), _cpu_flags().encode()):
        key.update(part)
        key.update(b"\0")
    tag = f"{platform.system()}-{platform.machine()}".lower()
    return cache_dir() / f"kernels-{tag}-{key.hexdigest()[:16]}.so"


def _compile(cc: str, target: Path, source: str) -> None:
    exe = shutil.which(cc)
    if exe is None:
        raise RuntimeError(f"C compiler {cc!r} not found (set CC or install gcc)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".so", dir=target.parent)
    os.close(fd)
    src = tmp[: -len(".so")] + ".c"
    try:
        Path(src).write_text(source)
        cmd = [exe, *CFLAGS, "-o", tmp, src, "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()[:2000]}")
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, src):
            if os.path.exists(leftover):
                os.unlink(leftover)


def load(source: str) -> ctypes.CDLL | None:
    """The library compiled from ``source``, building it into the cache if needed;
    ``None`` (with a one-time warning) when it cannot be built or loaded."""
    cc = os.environ.get("CC") or "gcc"
    memo = (cc, os.environ.get("MXOPT_CACHE_DIR", ""), hash(source))
    if memo in _loaded:
        return _loaded[memo]
    with _lock:
        if memo in _loaded:
            return _loaded[memo]
        lib: ctypes.CDLL | None = None
        try:
            path = _library_path(source.encode(), cc)
            if not path.exists():
                _compile(cc, path, source)
            lib = ctypes.CDLL(str(path))
            if lib.mxopt_kernels_abi() != ABI_VERSION:
                raise RuntimeError(f"{path} has an unexpected ABI version")
        except (OSError, RuntimeError) as exc:
            if memo[:2] not in _warned:  # once per compiler and cache setting
                _warned.add(memo[:2])
                warnings.warn(
                    f"mxopt: fused optimizer kernels unavailable ({exc}); using the "
                    "reference path (set MXOPT_FUSED=0 to silence this)",
                    RuntimeWarning,
                    stacklevel=4,
                )
            lib = None
        _loaded[memo] = lib
        return lib
