"""``in_dtype_all`` (the rules' per-tensor scalars, all at once) rounds exactly as the
per-value ``in_dtype`` the reference path uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mxopt.ndarray.ops._common import in_dtype, in_dtype_all

VALUES = [0.1, -0.0, 0.0, 1e-3 * 0.999, 1.0 - 0.9**7, 1e-8, 3.4e38, 1e-45, -2.5, math.pi]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_in_dtype_all_matches_in_dtype(dtype) -> None:
    got = in_dtype_all(VALUES, dtype)
    assert got.dtype == np.float64
    want = [in_dtype(v, dtype) for v in VALUES]
    assert [float(x) for x in got] == want
    assert [math.copysign(1.0, x) for x in got] == [math.copysign(1.0, x) for x in want]
