"""Step 2 of `make interop` (runs in .mxref): real MXNet 1.9.1 loads the mxopt checkpoint
and must predict what mxopt predicted."""

import sys

import mxnet as mx
import numpy as np

out = sys.argv[1]
X = np.load(f"{out}/X.npy")
ours = np.load(f"{out}/pred.npy")
sym, arg, aux = mx.model.load_checkpoint(f"{out}/net", 2)
mod = mx.mod.Module(sym, label_names=("softmax_label",))
mod.bind(data_shapes=[("data", (32, 20))], for_training=False)
mod.set_params(arg, aux)
pred = mod.predict(mx.io.NDArrayIter(X, batch_size=32)).asnumpy()
diff = float(np.abs(pred - ours).max())
print(f"MXNet {mx.__version__} loaded the mxopt checkpoint; max |prediction diff| = {diff:.3g}")
sys.exit(0 if diff < 1e-5 else 1)
