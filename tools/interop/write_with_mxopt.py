"""Step 1 of `make interop`: train a small net with mxopt and save an MXNet checkpoint."""

import sys

import numpy as np

import mxopt as mx

out = sys.argv[1]
np.random.seed(0)
X = np.random.randn(256, 20).astype("float32")
y = X[:, :10].argmax(1).astype("float32")
it = mx.io.NDArrayIter(X, y, batch_size=32)
net = mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc1", num_hidden=16)
net = mx.sym.Activation(net, act_type="relu", name="relu1")
net = mx.sym.BatchNorm(net, name="bn1")
net = mx.sym.FullyConnected(net, name="fc2", num_hidden=10)
net = mx.sym.SoftmaxOutput(net, name="softmax")
mod = mx.mod.Module(net)
mod.fit(it, num_epoch=2, optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
mod.save_checkpoint(f"{out}/net", 2)
it.reset()
np.save(f"{out}/pred.npy", mod.predict(it).numpy())
np.save(f"{out}/X.npy", X)
