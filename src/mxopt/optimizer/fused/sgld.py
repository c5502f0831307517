r"""Fused SGLD: the drift of :func:`mxopt.ndarray.ops.sgld.sgld_rule` and its Gaussian noise
in one pass over w and g, the noise generated inside the kernel (no noise tensor).

.. math::

    G = \mathrm{clip}(r g),\qquad
    w \leftarrow \Big(w - \tfrac{\eta}{2}(G + \lambda w)\Big) + \sigma z,\qquad
    \sigma = \sqrt\eta

The noise (defined in :mod:`mxopt._philox`, shared with the reference path): each item of
a call, in order, gets one 64-bit key :math:`k = (k_0, k_1)` (low, high 32 bits) from the
optimizer's generator (all keys of a call in one draw: the same keys as one draw per item).
For flat element :math:`e` of the item, with :math:`b = \lfloor e/4 \rfloor = (b_0, b_1)`,

.. math::

    (x_0, x_1, x_2, x_3) = \mathrm{Philox4x32\text{-}10}_k(b_0, b_1, 0, 0),\quad
    u = \frac{\lfloor x_a/2^9 \rfloor + \frac12}{2^{23}},\quad
    \theta = 2\pi \frac{\lfloor x_{a+1}/2^8 \rfloor + \frac12}{2^{24}},\quad
    (z_{4b+a}, z_{4b+a+1}) = \sqrt{-2\ln u}\,(\cos\theta, \sin\theta)

for :math:`a = 0` and :math:`a = 2`, all in float32 by fixed
formulas (polynomial ``ln``/``sin``/``cos``, correctly rounded ``sqrt``). The C code below
computes what the torch code there computes, operation for operation, so both paths add
bit-identical noise; the reference's ``SGLD._draw_noise`` draws one key and calls
:func:`mxopt._philox.gaussian`. :math:`\sigma z` is computed in float32 (float32 weights,
float16/bfloat16 master copies; :math:`\sigma` rounded to float32) or in float64 from the
float32 :math:`z` (float64 weights).

The kernel draws a block of 1024 normals at a time into a per-thread buffer (Philox for
256 blocks, vectorized across blocks, then Box-Muller), then updates those 1024 elements.
No ``-ffast-math`` is needed to vectorize it, since no math library function is called
(``sqrtf`` is one instruction), so the drift keeps the reference's rounding. Scalars are
rounded to the weight's type (NDArray arithmetic); clipping is the NDArray rule
(:mod:`._ndclip`). An optimizer whose ``_draw_noise`` is overridden gets it called
instead, one item at a time, and its noise added by the kernel :data:`SGLD_GIVEN`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch

from ... import _philox
from ...ndarray.ops._common import in_dtype
from ._ndclip import nd_clip, nd_clip_bound
from .codegen import Kernel
from .engine import FusedRule, Item, launch, register_rule

__all__ = ["SGLD", "SGLD_GIVEN", "RULE"]


def _c(x: float) -> str:
    """A float32 constant as an exact C literal."""
    return f"{float(x).hex()}f"


def _c_horner(x: str, coeffs: tuple[float, ...]) -> str:
    """``c0 + x * (c1 + x * (...))`` in C, as :func:`mxopt._philox._horner` evaluates it."""
    expr = _c(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        expr = f"{expr} * {x} + {_c(c)}"
        expr = f"({expr})"
    return expr


_M, _W = _philox.PHILOX_M, _philox.PHILOX_W

# The generator of mxopt._philox in C (same operations in the same order).
HELPERS = f"""
/* Philox4x32-10 of counter (c0, c1, 0, 0) under key (k0, k1). The 32-bit words are held
   in 64-bit variables (upper halves zero): gcc then vectorizes the 32x32->64-bit products
   without widening and narrowing every round (twice as fast). */
typedef struct {{ uint64_t x0, x1, x2, x3; }} mxopt_u32x4;
static inline mxopt_u32x4 mxopt_philox(uint64_t c0, uint64_t c1, uint64_t k0, uint64_t k1) {{
    const uint64_t lo32 = 0xFFFFFFFFu;
    uint64_t c2 = 0, c3 = 0;
    #pragma GCC unroll 10
    for (int r = 0; r < 10; ++r) {{
        const uint64_t p0 = c0 * {_M[0]:#x}u, p1 = c2 * {_M[1]:#x}u;
        c0 = (p1 >> 32) ^ c1 ^ k0;
        c2 = (p0 >> 32) ^ c3 ^ k1;
        c1 = p1 & lo32;
        c3 = p0 & lo32;
        k0 = (k0 + {_W[0]:#x}u) & lo32;
        k1 = (k1 + {_W[1]:#x}u) & lo32;
    }}
    return (mxopt_u32x4){{c0, c1, c2, c3}};
}}

/* ln(u), u in (0, 1): u = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1 exact. */
static inline float mxopt_log_open(float u) {{
    int32_t bits;
    memcpy(&bits, &u, 4);
    const int32_t k = (bits - 0x3F3504F3) >> 23;
    bits -= k * (1 << 23);
    float m;
    memcpy(&m, &bits, 4);
    const float f = m - 1.0f, s = f / (f + 2.0f), z = s * s;
    const float R = z * {_c_horner("z", _philox.LOG_COEFFS)};
    const float hfsq = 0.5f * f * f, kf = (float)k;
    return kf * {_c(_philox.LN2_HI)} + (f - (hfsq - (s * (hfsq + R) + kf * {_c(_philox.LN2_LO)})));
}}

/* Box-Muller: z0 = r cos t, z1 = r sin t from the words a (radius) and b (angle). */
static inline void mxopt_box_muller(uint32_t a, uint32_t b, float *z0, float *z1) {{
    const float u = ((float)(a >> 9) + 0.5f) * 0x1p-23f;
    const float r = sqrtf(-2.0f * mxopt_log_open(u));
    const int32_t y = (int32_t)(b >> 8);
    const int32_t q = (y + (1 << 21)) >> 22; /* t = pi/2 (q + f), |f| < 1/2 */
    const float f = ((float)(y - q * (1 << 22)) + 0.5f) * 0x1p-22f;
    const float f2 = f * f;
    const float s = f * {_c_horner("f2", _philox.SIN_COEFFS)};
    const float c = {_c_horner("f2", (1.0, *_philox.COS_COEFFS))};
    const float cs = (q & 1) ? s : c, sn = (q & 1) ? c : s;
    *z0 = (((q + 1) & 2) ? -cs : cs) * r;
    *z1 = ((q & 2) ? -sn : sn) * r;
}}

/* The standard normals of elements [b0, b1) (b0 a multiple of 4, b1 - b0 <= MXOPT_DRAW_BLOCK)
   of the item keyed (k0, k1) into z[0 ..], rounded up to whole blocks of 4. Two loops (the
   Philox words of every block, then Box-Muller on them) vectorize better than one. */
__attribute__((noinline)) static void mxopt_normals(float *restrict z, int64_t b0, int64_t b1,
                                                    uint32_t k0, uint32_t k1) {{
    const int64_t first = b0 >> 2, nb = (b1 - b0 + 3) >> 2;
    uint32_t x[4][MXOPT_DRAW_BLOCK / 4] __attribute__((aligned(64)));
    #pragma omp simd
    for (int64_t j = 0; j < nb; ++j) {{
        const uint64_t block = (uint64_t)(first + j);
        const mxopt_u32x4 r = mxopt_philox(block & 0xFFFFFFFFu, block >> 32, k0, k1);
        x[0][j] = (uint32_t)r.x0;
        x[1][j] = (uint32_t)r.x1;
        x[2][j] = (uint32_t)r.x2;
        x[3][j] = (uint32_t)r.x3;
    }}
    #pragma omp simd
    for (int64_t j = 0; j < nb; ++j) {{
        mxopt_box_muller(x[0][j], x[1][j], &z[4 * j], &z[4 * j + 1]);
        mxopt_box_muller(x[2][j], x[3][j], &z[4 * j + 2], &z[4 * j + 3]);
    }}
}}
"""

SGLD = Kernel(
    "sgld",
    states=(),
    scalars=("neg_half_lr", "wd", "rescale", "clip", "sigma", "key_lo", "key_hi"),
    exact=("key_lo", "key_hi"),
    helpers=HELPERS,
    draws="mxopt_normals(draws_, b0, b1, (uint32_t)key_lo, (uint32_t)key_hi);",
    body=f"""
        T G = g * rescale;
        {nd_clip("G")}
        w = w + (G + w * wd) * neg_half_lr;
        w = w + sigma * draw;
    """,
)

# For an overridden ``_draw_noise``: its noise tensor is read.
SGLD_GIVEN = Kernel(
    "sgld_given",
    states=("noise",),
    scalars=("neg_half_lr", "wd", "rescale", "clip"),
    read_only=("noise",),
    body=f"""
        T G = g * rescale;
        {nd_clip("G")}
        w = w + (G + w * wd) * neg_half_lr;
        w = w + noise;
    """,
)


def _optimizer_class():
    from ..sgld import SGLD as SGLDOptimizer

    return SGLDOptimizer


def _applies(opt) -> bool:
    cls = _optimizer_class()
    return isinstance(opt, cls) and type(opt)._step is cls._step


def _states_of(state):
    return () if state is None else None


@lru_cache(maxsize=256)
def _scalars(
    lr: float, wd: float, rescale: float, clip: float | None, ctype: torch.dtype
) -> tuple[float, ...]:
    return (
        in_dtype(-lr / 2, ctype),
        in_dtype(wd, ctype),
        in_dtype(rescale, ctype),
        nd_clip_bound(clip),
    )


def _sigma(lr: float, ctype: torch.dtype) -> float:
    """The noise's standard deviation as :func:`mxopt._philox.gaussian` rounds it."""
    return math.sqrt(lr) if ctype == torch.float64 else in_dtype(math.sqrt(lr), torch.float32)


def _default_draw(opt) -> bool:
    """Whether ``opt`` draws with SGLD's own ``_draw_noise`` (not overridden, not patched:
    compared by name, as a patched class attribute is what the class itself then holds)."""
    fn = getattr(type(opt), "_draw_noise", None)
    return (
        "_draw_noise" not in vars(opt)
        and getattr(fn, "__module__", None) == _optimizer_class().__module__
        and getattr(fn, "__qualname__", None) == "SGLD._draw_noise"
    )


def _drawn(opt, item: Item) -> torch.Tensor:
    """``opt._draw_noise(item.w, item.lr)`` as a contiguous tensor of the weight's dtype."""
    noise = opt._draw_noise(item.w, item.lr)
    if noise.dtype != item.w.dtype or noise.shape != item.w.shape:
        noise = noise.to(item.w.dtype).expand(item.w.shape)
    return noise.contiguous()


def _run(opt, items: list[Item], ctype: torch.dtype, variant: str) -> None:
    rescale, clip = opt.rescale_grad, opt.clip_gradient
    if not _default_draw(opt):
        for item in items:
            scalars = _scalars(item.lr, item.wd, rescale, clip, ctype)
            launch(SGLD_GIVEN, variant, [item._replace(states=(_drawn(opt, item),))], [scalars])
        return
    keys = _philox.draw_keys(len(items), opt.generator)  # as _draw_noise, item by item
    scalars = [
        (
            *_scalars(item.lr, item.wd, rescale, clip, ctype),
            _sigma(item.lr, ctype),
            float(key & 0xFFFFFFFF),
            float(key >> 32),
        )
        for item, key in zip(items, keys)
    ]
    launch(SGLD, variant, items, scalars)


RULE = FusedRule(
    applies=_applies,
    states_of=_states_of,
    kernels=(SGLD, SGLD_GIVEN),
    run=_run,
    sparse="dense",  # the reference densifies a row-sparse gradient
    ordered=True,  # the keys are drawn item by item from one generator
)
register_rule("sgld", RULE)
