"""``mxopt demo``: the seed's example, then a small network trained on real hand-written digits.

Part 1 runs the seed document's example as written (Symbol, Module, ``init_params`` with
``Uniform(1.0)``, SGD with a ``FactorScheduler``) and fits it on random (N, 20) data with
10 classes. Part 2 trains a 64-64-10 MLP on scikit-learn's bundled digits data set (1797
8x8 images, no download) with ``Module.fit``: MXNet's ``Epoch[..] Train-accuracy`` /
``Validation-accuracy`` log lines, a progress bar per epoch, and the final validation
accuracy. Runs in a few seconds on a laptop CPU.

>>> from mxopt import cli
>>> cli.main(['demo', '--epochs', '2', '--no-progress'])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

__all__ = ["add_arguments", "run", "seed_example", "train_digits"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mxopt demo``."""
    parser.add_argument("--epochs", type=int, default=10, help="digits training epochs (10)")
    parser.add_argument("--batch-size", type=int, default=32, help="digits batch size (32)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (0.1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--no-progress", action="store_true", help="no live progress bar")
    parser.add_argument("--skip-seed", action="store_true", help="skip the seed's example")


def seed_example(num_epoch: int = 20) -> float:
    """The seed's example as written, fitted on random data; returns the train accuracy."""
    import mxopt as mx

    data = mx.symbol.Variable("data")
    label = mx.symbol.Variable("softmax_label")
    fc = mx.symbol.FullyConnected(data, name="fc", num_hidden=10)
    loss = mx.symbol.SoftmaxOutput(fc, label, name="softmax")
    mod = mx.mod.Module(loss)
    mod.bind(data_shapes=[("data", (128, 20))], label_shapes=[("softmax_label", (128,))])
    mod.init_params(mx.initializer.Uniform(scale=1.0))
    lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
    mod.init_optimizer(
        optimizer="sgd", optimizer_params=(("learning_rate", 0.1), ("lr_scheduler", lr_sch))
    )
    # random (N, 20) features; 10 classes from a random linear teacher
    rng = np.random.RandomState(0)
    x = rng.randn(1280, 20).astype(np.float32)
    y = (x @ rng.randn(20, 10)).argmax(axis=1)
    train = mx.io.NDArrayIter(x, y, batch_size=128, shuffle=True)
    mod.fit(train, num_epoch=num_epoch)
    return float(mod.score(train, "acc")[0][1])


def _digits_network() -> object:
    import mxopt as mx

    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, name="fc1", num_hidden=64)
    net = mx.sym.Activation(net, name="relu1", act_type="relu")
    net = mx.sym.FullyConnected(net, name="fc2", num_hidden=10)
    return mx.sym.SoftmaxOutput(net, name="softmax")


def train_digits(
    epochs: int = 10, batch_size: int = 32, lr: float = 0.1, progress: bool = True
) -> float:
    """Fit an MLP on scikit-learn's digits with ``Module.fit``; returns validation accuracy."""
    from sklearn.datasets import load_digits

    import mxopt as mx

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    y = digits.target.astype(np.float32)
    order = np.random.RandomState(42).permutation(len(y))
    train_idx, val_idx = order[:1437], order[1437:]  # 80% / 20%
    train = mx.io.NDArrayIter(x[train_idx], y[train_idx], batch_size, shuffle=True)
    val = mx.io.NDArrayIter(x[val_idx], y[val_idx], batch_size)

    mod = mx.mod.Module(_digits_network(), context=mx.cpu())
    # a live bar per epoch, or (without one) MXNet's Speedometer log lines every 20 batches
    bar = mx.callback.ProgressCallback() if progress else None
    callbacks = bar if bar is not None else mx.callback.Speedometer(batch_size, frequent=20)
    try:
        mod.fit(
            train,
            eval_data=val,
            eval_metric="acc",
            initializer=mx.init.Xavier(magnitude=2.0),
            optimizer="sgd",
            optimizer_params={
                "learning_rate": lr,
                "momentum": 0.9,
                "wd": 1e-4,
                "lr_scheduler": mx.lr_scheduler.FactorScheduler(step=200, factor=0.5),
            },
            batch_end_callback=callbacks,
            num_epoch=epochs,
        )
    finally:
        if bar is not None:
            bar.close()
    return float(mod.score(val, "acc")[0][1])


def run(args: argparse.Namespace) -> int:
    """Run both parts; prints the final validation accuracy. Returns the exit status."""
    import mxopt as mx

    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise SystemExit(f"mxopt demo: --{name.replace('_', '-')} must be >= 1")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger().setLevel(logging.INFO)
    np.random.seed(args.seed)  # NDArrayIter shuffles with NumPy's global stream, as MXNet
    mx.random.seed(args.seed)  # initializers draw from torch's generators

    start = time.perf_counter()
    if not args.skip_seed:
        print(
            "== 1/2: the seed's example (Symbol -> Module -> init_params -> init_optimizer -> fit)"
        )
        acc = seed_example()
        print(f"seed example: train accuracy {acc:.3f}")
    print(
        "== 2/2: a 64-64-10 MLP on scikit-learn's hand-written digits "
        f"(1437 train / 360 validation, {args.epochs} epochs, SGD lr={args.lr} momentum=0.9)"
    )
    val_acc = train_digits(args.epochs, args.batch_size, args.lr, not args.no_progress)
    print(f"final validation accuracy: {val_acc:.4f}")
    print(f"demo finished in {time.perf_counter() - start:.1f} s")
    return 0
