"""The seed document's example ("Optimization: initialize and update weights"), as written.

The five steps below are the seed's code verbatim (Symbol, Module, init_params,
FactorScheduler, init_optimizer); the seed ends with "run ``mod.fit(...)``", so this file adds
the data it needs -- random (N, 20) features with 10 classes given by a random linear
teacher -- and the fit call.

Run: python examples/seed_example.py
"""

import logging

import numpy as np

import mxopt as mx

logging.basicConfig(level=logging.INFO, format="%(message)s")

# --- the seed's code -------------------------------------------------------------------------
# fmt: off
data = mx.symbol.Variable('data')
label = mx.symbol.Variable('softmax_label')
fc = mx.symbol.FullyConnected(data, name='fc', num_hidden=10)
loss = mx.symbol.SoftmaxOutput(fc, label, name='softmax')
mod = mx.mod.Module(loss)
mod.bind(data_shapes=[('data', (128,20))], label_shapes=[('softmax_label', (128,))])

mod.init_params(mx.initializer.Uniform(scale=1.0))

lr_sch = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9)
mod.init_optimizer(
    optimizer='sgd', optimizer_params=(('learning_rate', 0.1), ('lr_scheduler', lr_sch)))
# fmt: on
# --- end of the seed's code ------------------------------------------------------------------

# the data the seed leaves out: 1280 samples, labels from a random linear teacher
rng = np.random.RandomState(0)
x = rng.randn(1280, 20).astype(np.float32)
y = (x @ rng.randn(20, 10)).argmax(axis=1)
train_iter = mx.io.NDArrayIter(x, y, batch_size=128, shuffle=True)

# fit keeps the bound module, its parameters and the optimizer set up above
mod.fit(train_iter, num_epoch=20)

score = mod.score(train_iter, "acc")
print(f"seed example train accuracy: {score[0][1]:.3f}")
