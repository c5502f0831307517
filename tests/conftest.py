"""Shared pytest set-up: golden fixtures and the optimizer catalog."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, os.path.dirname(__file__))  # so tests can import optimizer_catalog


def load_golden(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of a golden ``.npz`` written by tools/fixtures."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    return meta, arrays


@pytest.fixture(autouse=True)
def _quiet_float16_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Accumulating with float16")
        yield
