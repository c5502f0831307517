/* Fused multi-tensor update kernels for mxopt's CPU fast path.
 *
 * Each function updates `nt` tensors in one OpenMP parallel region; tensor k has
 * n[k] contiguous elements at the addresses in the pointer arrays. Per-tensor scalars
 * come in `s` (nscal doubles per tensor), already rounded by the Python wrapper exactly
 * as the reference path rounds them; they are converted to the element type here.
 *
 * The operation order mirrors the reference torch ops one rounding at a time; where the
 * reference uses `add_(x, alpha=a)` (a fused multiply-add in torch's vectorised CPU
 * kernel) we call fma explicitly, and the file is compiled with -ffp-contract=off so
 * no other contraction happens.
 */
#include <math.h>
#include <stdint.h>

/* Below this many elements per call, one thread does the work (waking the team costs more). */
#define MXOPT_PARALLEL_MIN 32768

static int64_t mxopt_total(int64_t nt, const int64_t *n) {
    int64_t total = 0;
    for (int64_t k = 0; k < nt; ++k) total += n[k];
    return total;
}

#define CLAMP(x, c) ((x) < -(c) ? -(c) : ((x) > (c) ? (c) : (x)))

/* Plain SGD. s = {lr, lr_rescale, decay, rescale, clip} per tensor, where
 * lr_rescale = in_dtype(lr * rescale), decay = in_dtype(1 - in_dtype(lr * wd)). */
#define DEFINE_SGD(T, SUF, FMA)                                                          \
    void mxopt_sgd_##SUF(int64_t nt, T **w, T **g, const int64_t *n, const double *s) { \
        _Pragma("omp parallel if (mxopt_total(nt, n) >= MXOPT_PARALLEL_MIN)")        \
        for (int64_t k = 0; k < nt; ++k) {                     \
            T *restrict wk = w[k];                                                     \
            const T *restrict gk = g[k];                                               \
            const T lr = (T)s[5 * k], lrr = (T)s[5 * k + 1], dec = (T)s[5 * k + 2];    \
            const T r = (T)s[5 * k + 3], c = (T)s[5 * k + 4];                          \
            const int64_t m = n[k];                                                    \
            if (c >= 0) {                                                              \
                _Pragma("omp for simd schedule(static) nowait")                        \
                for (int64_t i = 0; i < m; ++i) {                                      \
                    T x = gk[i] * r;                                                   \
                    x = CLAMP(x, c) * lr;                                              \
                    wk[i] = wk[i] * dec - x;                                           \
                }                                                                      \
            } else {                                                                   \
                _Pragma("omp for simd schedule(static) nowait")                        \
                for (int64_t i = 0; i < m; ++i) wk[i] = wk[i] * dec - gk[i] * lrr;      \
            }                                                                          \
        }                                                                              \
    }

/* Momentum SGD. s = {lr, lr_rescale, lr_wd, rescale, clip, momentum} per tensor. */
#define DEFINE_SGD_MOM(T, SUF, FMA)                                                      \
    void mxopt_sgd_mom_##SUF(int64_t nt, T **w, T **g, T **mom, const int64_t *n,       \
                             const double *s) {                                         \
        _Pragma("omp parallel if (mxopt_total(nt, n) >= MXOPT_PARALLEL_MIN)")        \
        for (int64_t k = 0; k < nt; ++k) {                     \
            T *restrict wk = w[k];                                                     \
            T *restrict mk = mom[k];                                                   \
            const T *restrict gk = g[k];                                               \
            const T lr = (T)s[6 * k], lrr = (T)s[6 * k + 1], lwd = (T)s[6 * k + 2];    \
            const T r = (T)s[6 * k + 3], c = (T)s[6 * k + 4], mu = (T)s[6 * k + 5];    \
            const int64_t m = n[k];                                                    \
            if (c >= 0) {                                                              \
                _Pragma("omp for simd schedule(static) nowait")                        \
                for (int64_t i = 0; i < m; ++i) {                                      \
                    T x = gk[i] * r;                                                   \
                    x = CLAMP(x, c) * lr;                                              \
                    T v = FMA(wk[i], -lwd, mk[i] * mu) - x;                            \
                    mk[i] = v;                                                         \
                    wk[i] = wk[i] + v;                                                 \
                }                                                                      \
            } else {                                                                   \
                _Pragma("omp for simd schedule(static) nowait")                        \
                for (int64_t i = 0; i < m; ++i) {                                      \
                    T v = FMA(wk[i], -lwd, mk[i] * mu) - gk[i] * lrr;                  \
                    mk[i] = v;                                                         \
                    wk[i] = wk[i] + v;                                                 \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    }

/* Adam (no bias correction in the kernel). s = {lr, beta1, one_minus_beta1, beta2,
 * one_minus_beta2, epsilon, wd, rescale, clip} per tensor. */
#define DEFINE_ADAM(T, SUF, FMA, SQRT)                                                   \
    void mxopt_adam_##SUF(int64_t nt, T **w, T **g, T **mean, T **var, const int64_t *n, \
                          const double *s) {                                            \
        _Pragma("omp parallel if (mxopt_total(nt, n) >= MXOPT_PARALLEL_MIN)")        \
        for (int64_t k = 0; k < nt; ++k) {                     \
            T *restrict wk = w[k];                                                     \
            T *restrict mk = mean[k];                                                  \
            T *restrict vk = var[k];                                                   \
            const T *restrict gk = g[k];                                               \
            const double *sk = s + 9 * k;                                              \
            const T lr = (T)sk[0], b1 = (T)sk[1], ob1 = (T)sk[2], b2 = (T)sk[3];       \
            const T ob2 = (T)sk[4], eps = (T)sk[5], wd = (T)sk[6], r = (T)sk[7];       \
            const T c = (T)sk[8];                                                      \
            const int clip = c >= 0;                                                   \
            const int64_t m = n[k];                                                    \
            _Pragma("omp for simd schedule(static) nowait")                            \
            for (int64_t i = 0; i < m; ++i) {                                          \
                T G = gk[i] * r + wk[i] * wd;                                          \
                if (clip) G = CLAMP(G, c);                                             \
                T mm = FMA(G, ob1, mk[i] * b1);                                        \
                T vv = FMA(G * G, ob2, vk[i] * b2);                                    \
                mk[i] = mm;                                                            \
                vk[i] = vv;                                                            \
                wk[i] = wk[i] - (mm * lr) / (SQRT(vv) + eps);                          \
            }                                                                          \
        }                                                                              \
    }

DEFINE_SGD(float, f32, fmaf)
DEFINE_SGD(double, f64, fma)
DEFINE_SGD_MOM(float, f32, fmaf)
DEFINE_SGD_MOM(double, f64, fma)
DEFINE_ADAM(float, f32, fmaf, sqrtf)
DEFINE_ADAM(double, f64, fma, sqrt)

int mxopt_kernels_abi(void) { return 1; }
