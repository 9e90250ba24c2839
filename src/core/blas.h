/* blas.h — CBLAS (OpenBLAS) for sl_real, so one kernel source builds in
 * float32 (the library) and float64 (-DSL_REAL=double, gradient checks).
 *
 * sl_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): row-major
 * C(M×N) = alpha·op(A)(M×K)·op(B)(K×N) + beta·C, with op = transpose when
 * ta/tb is nonzero. */
#ifndef SL_CORE_BLAS_H
#define SL_CORE_BLAS_H

#include <cblas.h>
#include "silico.h"

#define SL_IS_DOUBLE (sizeof(sl_real) == sizeof(double))

static inline void sl_gemm(int ta, int tb, int M, int N, int K, double alpha, const sl_real *A,
                           int lda, const sl_real *B, int ldb, double beta, sl_real *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C = beta·C */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = (sl_real)(beta * C[(size_t)i * ldc + j]);
        return;
    }
    if (SL_IS_DOUBLE)
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                    N, K, alpha, (const double *)(const void *)A, lda,
                    (const double *)(const void *)B, ldb, beta, (double *)(void *)C, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                    N, K, (float)alpha, (const float *)(const void *)A, lda,
                    (const float *)(const void *)B, ldb, (float)beta, (float *)(void *)C, ldc);
}

#endif
