"""Times real MXNet 1.9.1's optimizers for bench/run.py (run with ``.mxref/bin/python``).

Reads one JSON object on stdin -- ``{"rules": {name: {"kwargs": {...}, "workloads": {label:
[shape, ...]}}}, "repeats": int, "budget_s": float}`` (shapes already as the rule needs them,
e.g. 2-D for groupadagrad) -- and prints one JSON object on stdout: ``{"version": str,
"results": {name: {label: seconds | null}}, "errors": {name: message}}``.

Each step goes through ``mx.optimizer.get_updater(mx.optimizer.create(name, **kwargs))``
called with the whole index list, as MXNet's ``Module`` does (``model._update_params``
calls ``updater(indices, grads, weights)`` once per device), and ends with
``mx.nd.waitall()`` inside the timed region (MXNet's engine is asynchronous). The time is
the best of ``repeats`` steps after one warm-up step that also creates the states. Needs
only mxnet and numpy (no torch, no mxopt).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import mxnet as mx
from timing import best_time  # bench/timing.py (this script's folder is on sys.path)


def step_fn(name: str, kwargs: dict[str, Any], shapes: list[list[int]]) -> Any:
    """A no-argument callable doing one full MXNet update of freshly made parameters."""
    updater = mx.optimizer.get_updater(mx.optimizer.create(name, **kwargs))
    weights = [mx.nd.random.normal(0, 0.1, shape=tuple(s), dtype="float32") for s in shapes]
    grads = [mx.nd.random.normal(0, 0.1, shape=tuple(s), dtype="float32") for s in shapes]
    indices = list(range(len(shapes)))
    mx.nd.waitall()

    def step() -> None:
        updater(indices, grads, weights)
        mx.nd.waitall()

    return step


def main() -> None:
    spec = json.load(sys.stdin)
    registered = set(mx.optimizer.Optimizer.opt_registry)
    results: dict[str, dict[str, float | None]] = {}
    errors: dict[str, str] = {}
    for name, rule in spec["rules"].items():
        results[name] = dict.fromkeys(rule["workloads"])
        if name not in registered:
            errors[name] = "not registered in MXNet " + mx.__version__
            continue
        for label, shapes in rule["workloads"].items():
            print(f"  mxnet {name} {label}", file=sys.stderr, flush=True)
            try:  # the arrays are freed when best_time returns
                step = step_fn(name, rule["kwargs"], shapes)
                results[name][label] = best_time(step, spec["repeats"], budget_s=spec["budget_s"])
            except Exception as e:  # report and go on: one rule must not stop the rest
                errors[name] = f"{type(e).__name__}: {e}"[:300]
            step = None
            mx.nd.waitall()
    json.dump({"version": mx.__version__, "results": results, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
