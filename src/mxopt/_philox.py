r"""Counter-based Gaussian noise (SGLD's): Philox4x32-10 and Box-Muller, exactly as the C
kernel of the fused fast path computes it.

Every item (parameter) an SGLD step updates gets one 64-bit *key*, drawn from a torch
generator (:func:`draw_keys`); its noise is then a pure function of the key and the flat
element index :math:`e`, so any thread can compute any element and no noise tensor is
needed. With the key split into :math:`k = (k_0, k_1)` (low and high 32 bits) and the
block :math:`b = \lfloor e/4 \rfloor` split into :math:`(b_0, b_1)` the same way:

1. :math:`(x_0, x_1, x_2, x_3) = \mathrm{Philox4x32\text{-}10}_k(b_0, b_1, 0, 0)`
   (Salmon et al., SC'11; the Random123/cuRAND constants below);
2. each pair :math:`(x_a, x_b) \in \{(x_0, x_1), (x_2, x_3)\}` gives two normals by
   Box-Muller, :math:`z_a = r\cos\theta`, :math:`z_b = r\sin\theta` with

   .. math::

       u = \frac{\lfloor x_a / 2^9 \rfloor + \tfrac12}{2^{23}} \in (0, 1),\qquad
       r = \sqrt{-2 \ln u},\qquad
       \theta = 2\pi\,\frac{\lfloor x_b / 2^8 \rfloor + \tfrac12}{2^{24}};

3. element :math:`e` takes :math:`z_0, z_1, z_2, z_3` for :math:`e \bmod 4 = 0, 1, 2, 3`.

``r`` and ``θ`` are computed in float32 by fixed formulas (:func:`_log_open`,
:func:`_quarter_sincos`: polynomials accurate to ~1-2 ulp, written with single IEEE
operations only), never by a math library, so the torch code here and the C kernel give
*bit-identical* normals on every machine. :math:`|z| \le \sqrt{2 \cdot 24 \ln 2} \approx 5.77`.

>>> z = standard_normal(key=1234, numel=6)
>>> z.dtype, z.shape
(torch.float32, torch.Size([6]))
"""

from __future__ import annotations

import math

import torch

from .ndarray.ops._common import f32
from .random import current_generator

__all__ = [
    "PHILOX_M",
    "PHILOX_W",
    "LOG_COEFFS",
    "LN2_HI",
    "LN2_LO",
    "SIN_COEFFS",
    "COS_COEFFS",
    "philox4x32",
    "standard_normal",
    "gaussian",
    "draw_keys",
]

PHILOX_M = (0xD2511F53, 0xCD9E8D57)  # round multipliers
PHILOX_W = (0x9E3779B9, 0xBB67AE85)  # Weyl key increments
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
# Blocks of 4 normals per step of the torch implementation: on CPU small enough for the
# temporaries to stay cached, elsewhere large (fewer kernel launches) but bounded.
CHUNK = {"cpu": 1 << 16}
CHUNK_OTHER = 1 << 20


# ln(1 + f) = 2 atanh(s), s = f / (2 + f): the Taylor coefficients of (2 atanh(s) - 2s)/s in
# z = s^2 (|s| <= 0.172 after the reduction below: the next term is below 2^-28).
LOG_COEFFS = tuple(f32(2 / (2 * j + 1)) for j in range(1, 5))  # 2/3, 2/5, 2/7, 2/9
# ln 2 split so that k * LN2_HI is exact for |k| < 2^8 (LN2_HI has 16 significant bits).
LN2_HI = math.floor(math.log(2) * 2**16) / 2**16
LN2_LO = f32(math.log(2) - LN2_HI)
# sin(pi/2 f) and cos(pi/2 f) for |f| <= 1/2: Taylor coefficients of f (odd / even powers
# up to 9 / 10; the next terms are below 2^-28).
SIN_COEFFS = tuple(
    f32((-1) ** j * (math.pi / 2) ** (2 * j + 1) / math.factorial(2 * j + 1)) for j in range(5)
)
COS_COEFFS = tuple(
    f32((-1) ** j * (math.pi / 2) ** (2 * j) / math.factorial(2 * j)) for j in range(1, 6)
)


def _mulhilo(a: torch.Tensor, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The high and low 32 bits of the 64-bit product ``a * m`` (``a``: int64 holding
    uint32 values), with ``m`` split in 16-bit halves so that nothing overflows int64."""
    p_lo = a * (m & 0xFFFF)  # < 2^48
    p_hi = a * (m >> 16)  # < 2^48; a * m = p_hi * 2^16 + p_lo
    hi = (p_hi + (p_lo >> 16)) >> 16
    lo = (p_lo + ((p_hi & 0xFFFF) << 16)) & _MASK32
    return hi, lo


def philox4x32(counter: torch.Tensor, key: tuple[int, int], rounds: int = 10) -> torch.Tensor:
    r"""Philox4x32 of ``counter`` (int64 ``[..., 4]`` holding uint32 words) under the key
    ``(k0, k1)``. Per round, with :math:`(h_i, l_i)` the high and low halves of
    :math:`M_i x_{2i}`:
    :math:`x \leftarrow (h_1 \oplus x_1 \oplus k_0,\ l_1,\ h_0 \oplus x_3 \oplus k_1,\ l_0)`,
    then :math:`k \leftarrow k + W \bmod 2^{32}`."""
    x0, x1, x2, x3 = counter.unbind(-1)
    k0, k1 = key
    for _ in range(rounds):
        hi0, lo0 = _mulhilo(x0, PHILOX_M[0])
        hi1, lo1 = _mulhilo(x2, PHILOX_M[1])
        x0, x1, x2, x3 = hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0
        k0, k1 = (k0 + PHILOX_W[0]) & _MASK32, (k1 + PHILOX_W[1]) & _MASK32
    return torch.stack((x0, x1, x2, x3), dim=-1)


def _horner(x: torch.Tensor, coeffs: tuple[float, ...]) -> torch.Tensor:
    """``c0 + x (c1 + x (c2 + ...))`` in float32, one rounding per operation."""
    acc = torch.full_like(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = acc * x + c
    return acc


def _log_open(u: torch.Tensor) -> torch.Tensor:
    r""":math:`\ln u` for float32 ``u`` in (0, 1): :math:`u = 2^k m`,
    :math:`m \in [\sqrt2/2, \sqrt2)`, :math:`f = m - 1` (exact), and
    :math:`\ln m = f - (f^2/2 - s (f^2/2 + R))` with :math:`s = f/(2+f)`,
    :math:`R = z P(z)`, :math:`z = s^2` (the exact identity :math:`2s = f - sf` turns
    :math:`2\,\mathrm{atanh}\,s` into this form, whose large part :math:`f` is exact)."""
    bits = u.view(torch.int32).to(torch.int64)
    k = (bits - 0x3F3504F3) >> 23  # 0x3F3504F3: the float32 bits of sqrt(2)/2
    m = (bits - k * (1 << 23)).to(torch.int32).view(torch.float32)
    f = m - 1.0
    s = f / (f + 2.0)
    z = s * s
    r = z * _horner(z, LOG_COEFFS)
    hfsq = 0.5 * f * f
    kf = k.to(torch.float32)
    return kf * LN2_HI + (f - (hfsq - (s * (hfsq + r) + kf * LN2_LO)))


def _quarter_sincos(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`(\cos\theta, \sin\theta)` for :math:`\theta = 2\pi (y + 1/2) / 2^{24}`,
    ``y`` int64 in :math:`[0, 2^{24})`: exact reduction to :math:`\theta = \frac\pi2 (q + f)`,
    :math:`q = \lfloor (y + 2^{21}) / 2^{22} \rfloor`, :math:`|f| < 1/2`, then the
    polynomials of :math:`\sin(\frac\pi2 f)`, :math:`\cos(\frac\pi2 f)` and the quadrant."""
    q = (y + (1 << 21)) >> 22  # 0..4 (4 is a full turn: like 0)
    f = ((y - (q << 22)).to(torch.float32) + 0.5) * 2.0**-22  # exact
    f2 = f * f
    s = f * _horner(f2, SIN_COEFFS)
    c = _horner(f2, (1.0, *COS_COEFFS))
    odd = (q & 1) == 1
    cs, sn = torch.where(odd, s, c), torch.where(odd, c, s)
    cos = torch.where(((q + 1) & 2) == 2, -cs, cs)  # quadrants 1, 2
    sin = torch.where((q & 2) == 2, -sn, sn)  # quadrants 2, 3
    return cos, sin


def _box_muller(xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two standard normals (float32) from two uint32 words (module docstring, step 2)."""
    u = ((xa >> 9).to(torch.float32) + 0.5) * 2.0**-23  # exact, in [2^-24, 1 - 2^-24]
    # torch's float32 sqrt is not always correctly rounded; the float64 one is within an
    # ulp, and rounding it to float32 then gives the correctly rounded sqrtf of the C code
    r = torch.sqrt((-2.0 * _log_open(u)).to(torch.float64)).to(torch.float32)
    cos, sin = _quarter_sincos(xb >> 8)
    return r * cos, r * sin


def standard_normal(key: int, numel: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The ``numel`` float32 standard normals of the item keyed ``key`` (flat order).

    Computed :data:`CHUNK` blocks at a time: the temporaries stay small and cached (on CPU
    a large fresh tensor costs a page fault per 4 KiB, more than the arithmetic)."""
    key &= _MASK64
    nblocks = (numel + 3) // 4
    out = torch.empty(4 * nblocks, dtype=torch.float32, device=device)
    chunk = CHUNK.get(out.device.type, CHUNK_OTHER)
    for start in range(0, nblocks, chunk):
        blocks = torch.arange(start, min(start + chunk, nblocks), device=device)
        zeros = torch.zeros_like(blocks)
        counter = torch.stack((blocks & _MASK32, blocks >> 32, zeros, zeros), dim=-1)
        x = philox4x32(counter, (key & _MASK32, key >> 32)).T  # [4, blocks]
        za, zb = _box_muller(x[0::2].flatten(), x[1::2].flatten())  # pairs (0, 1), (2, 3)
        n = blocks.numel()
        z = torch.stack((za[:n], zb[:n], za[n:], zb[n:]), dim=-1)
        out[4 * start : 4 * (start + n)] = z.flatten()
    return out[:numel]


def gaussian(
    key: int, shape: torch.Size | tuple[int, ...], dtype: torch.dtype, std: float,
    device: torch.device | str = "cpu",
) -> torch.Tensor:  # fmt: skip
    r""":math:`\mathcal N(0, \mathrm{std}^2)` noise of ``shape`` and ``dtype``:
    ``std * z`` computed in float64 for float64, else in float32 (``std`` rounded to
    float32) and rounded once to ``dtype``."""
    z = standard_normal(key, math.prod(shape), device).view(shape)
    if dtype == torch.float64:
        return z.to(torch.float64).mul_(std)
    return z.mul_(f32(std)).to(dtype)


def draw_keys(
    n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> list[int]:
    """``n`` 64-bit keys (unsigned ints) from ``generator``, else from the generator of
    :func:`mxopt.random.use_generator`, else from torch's default generator of ``device``.

    A CPU generator gives the same keys in one call as in ``n`` calls of one key (checked
    by the tests), so batching items never changes them; other generators draw one at a
    time."""
    gen = current_generator(generator)
    dev = torch.device(gen.device if gen is not None else device)
    calls = [n] if dev.type == "cpu" else [1] * n
    keys: list[int] = []
    for count in calls:
        drawn = torch.empty(count, dtype=torch.int64, device=dev)
        drawn.random_(-(2**63), None, generator=gen)  # the full 64-bit range
        keys += [k & _MASK64 for k in drawn.tolist()]
    return keys
