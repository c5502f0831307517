"""``mx.mod`` / ``mx.module``: MXNet's Module API (bind, init_params, init_optimizer, fit,
score, predict, checkpoints) on torch tensors."""

from .base_module import BaseModule
from .legacy_states import decode_array_blob, load_legacy_states
from .module import Module

__all__ = ["BaseModule", "Module", "load_legacy_states", "decode_array_blob"]
