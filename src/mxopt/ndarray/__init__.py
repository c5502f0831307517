"""``mx.nd``: tensor creation, MXNet's update operators, and MXNet's ``.params`` files.

Every function takes and returns plain ``torch.Tensor`` objects. The update operators
(``sgd_update``, ``adam_update``, ...) keep MXNet's names and keyword arguments; they update
``weight`` (or ``out=``) and their state tensors in place.
"""

from . import contrib, sparse
from .creation import array, context_of, empty, full, ones, to_dtype, zeros
from .ops.adagrad import adagrad_update
from .ops.adam import adam_update
from .ops.ftml import ftml_update
from .ops.ftrl import ftrl_update
from .ops.lamb import (
    lamb_update_phase1,
    lamb_update_phase2,
    mp_lamb_update_phase1,
    mp_lamb_update_phase2,
)
from .ops.multi import (
    multi_lars,
    multi_mp_sgd_mom_update,
    multi_mp_sgd_update,
    multi_sgd_mom_update,
    multi_sgd_update,
    multi_sum_sq,
    preloaded_multi_mp_sgd_mom_update,
    preloaded_multi_mp_sgd_update,
    preloaded_multi_sgd_mom_update,
    preloaded_multi_sgd_update,
)
from .ops.nag import mp_nag_mom_update, nag_mom_update
from .ops.rmsprop import rmsprop_update, rmspropalex_update
from .ops.sgd import mp_sgd_mom_update, mp_sgd_update, sgd_mom_update, sgd_update
from .ops.signum import signsgd_update, signum_update
from .serialization import load, load_frombuffer, save
