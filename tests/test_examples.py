"""Every file in examples/ (and `mxopt demo`) runs to completion and prints what it should."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# file name -> patterns its output must contain (stdout + stderr, where logging goes)
EXPECTED: dict[str, list[str]] = {
    "seed_example.py": [
        r"Epoch\[0\] Train-accuracy=\d\.\d+",
        r"Epoch\[19\] Time cost=\d",
        r"seed example train accuracy: (0\.[5-9]\d\d|1\.000)",
    ],
    "torch_model_sgd.py": [
        r"epoch 0 lr 0\.1000 validation accuracy",
        r"final validation accuracy: 0\.9[0-9]{2}",
    ],
}


def _run(args: list[str], timeout: float = 120) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    return output


def test_every_example_has_expectations() -> None:
    assert [p.name for p in EXAMPLES] == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path) -> None:
    output = _run([str(path)])
    for pattern in EXPECTED[path.name]:
        assert re.search(pattern, output), f"{pattern!r} not in output:\n{output[-3000:]}"


@pytest.mark.slow
def test_demo_runs() -> None:
    output = _run(["-m", "mxopt.cli", "demo", "--epochs", "4", "--no-progress"])
    assert "== 1/2: the seed's example" in output
    assert re.search(r"seed example: train accuracy \d\.\d{3}", output)
    for epoch in range(4):
        assert f"Epoch[{epoch}] Train-accuracy=" in output
        assert f"Epoch[{epoch}] Validation-accuracy=" in output
        # without the live bar the demo logs MXNet's Speedometer lines
        assert re.search(rf"Epoch\[{epoch}\] Batch \[0-20\]\tSpeed: [\d.]+ samples/sec", output)
    match = re.search(r"final validation accuracy: (\d\.\d{4})", output)
    assert match and float(match.group(1)) > 0.85, output[-3000:]
