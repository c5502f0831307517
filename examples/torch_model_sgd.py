"""Train a plain torch.nn model with mxopt's MXNet optimizers (no Symbol / Module needed).

MXNet-style optimizers update plain tensors in place: ``updater(index, grad, weight)``.
This example fits a small MLP on scikit-learn's bundled hand-written digits (offline) with
SGD + momentum, weight decay on the weights only, and a FactorScheduler.

Run: python examples/torch_model_sgd.py
"""

import numpy as np
import torch
from sklearn.datasets import load_digits

import mxopt as mx

torch.manual_seed(0)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target, dtype=torch.int64)
perm = torch.from_numpy(np.random.RandomState(0).permutation(len(y)))
train_idx, val_idx = perm[:1400], perm[1400:]

model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
names = [name for name, _ in model.named_parameters()]  # '0.weight', '0.bias', ...
params = list(model.parameters())

batch_size = 50
# MXNet semantics: the gradient is multiplied by rescale_grad (the loss below is a sum over
# the batch, so rescale_grad = 1/batch_size). With param_idx2name, MXNet gives wd_mult 0 to
# every name not ending in '_weight' or '_gamma' -- torch's names ('0.weight') included --
# so the weights get wd_mult 1 explicitly.
optimizer = mx.optimizer.create(
    "sgd",
    learning_rate=0.1,
    momentum=0.9,
    wd=1e-4,
    rescale_grad=1.0 / batch_size,
    lr_scheduler=mx.lr_scheduler.FactorScheduler(step=100, factor=0.9),
    param_idx2name=dict(enumerate(names)),
)
optimizer.set_wd_mult({name: 1.0 for name in names if name.endswith("weight")})
updater = mx.optimizer.get_updater(optimizer)

for epoch in range(8):
    order = train_idx[torch.randperm(len(train_idx))]
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch], reduction="sum")
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for i, p in enumerate(params):
                updater(i, p.grad, p.data)
    with torch.no_grad():
        acc = (model(x[val_idx]).argmax(1) == y[val_idx]).float().mean().item()
    print(f"epoch {epoch} lr {optimizer.learning_rate:.4f} validation accuracy {acc:.3f}")

print(f"final validation accuracy: {acc:.3f}")
