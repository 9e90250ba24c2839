/* compare.c — model vs recorded neurons: reading the recording, and every
 * geometry measure on aligned C conditions × T bins.
 *
 * Both sides X (C·T × N) are reduced to k principal components Z (fit over
 * all C·T samples: CCA on raw units overfits, k = 10 by default), then
 *   cca_mean_r2          Σρ²/k of the canonical correlations of Z_m, Z_d
 *   svcca_mean           mean ρ after keeping 99% of each side's raw variance
 *   cka_linear(_debiased) feature form on Z; cka_linear_gram(_debiased) the
 *                        Gram form (equal by construction, both reported)
 *   cka_rbf              Gram form with the RBF kernel, threshold 0.5
 *   procrustes           √(2 − 2‖Z̃_mᵀZ̃_d‖_*) on centred, unit-norm Z
 *   rsa_*                RDMs over conditions, each condition's pattern its
 *                        T×k PC trajectory flattened (euclidean: squared ÷
 *                        channels; correlation: 1 − r), compared by Spearman,
 *                        Pearson, Kendall τ-a, cosine; permutation p (10000,
 *                        seed 1) for Spearman
 * and per side: jPCA rotation strength (raw rates, soft-normalised, 6 dims),
 * median tangling (on Z, ε = 0.1 × total variance, dt = the bin width),
 * participation-ratio dimensionality of the raw covariance.
 *
 * Recordings: "FILE.npy" (any dtype sl_npy_read reads) or "FILE.mat:EXPR"
 * read with matio, EXPR = NAME then .FIELD, (i) or {i} (1-based); MATLAB's
 * column-major data are returned row-major in the same dimension order. */
#include <math.h>
#include <matio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"

/* ------------------------------------------------------------ reading */

static sl_status npy_to_double(const sl_array *a, double **data)
{
    size_t n = sl_array_numel(a);
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return sl_fail(SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) switch (a->dtype) {
        case SL_F32: d[i] = ((const float *)a->data)[i]; break;
        case SL_F64: d[i] = ((const double *)a->data)[i]; break;
        case SL_I32: d[i] = ((const int32_t *)a->data)[i]; break;
        case SL_I64: d[i] = (double)((const int64_t *)a->data)[i]; break;
        case SL_U8: d[i] = ((const uint8_t *)a->data)[i]; break;
        }
    *data = d;
    return SL_OK;
}

static const char *mat_class(enum matio_classes c)
{
    switch (c) {
    case MAT_C_CELL: return "cell";
    case MAT_C_STRUCT: return "struct";
    case MAT_C_CHAR: return "char";
    case MAT_C_SPARSE: return "sparse";
    case MAT_C_FUNCTION: return "function";
    case MAT_C_OBJECT: return "object";
    default: return "numeric";
    }
}

static void dims_str(const matvar_t *v, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < v->rank && o + 24 < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%zu", i ? "×" : "", v->dims[i]);
}

/* Names of the variables in the file, comma-separated, for error messages. */
static void list_vars(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) return;
    matvar_t *v;
    size_t o = 0;
    while ((v = Mat_VarReadNextInfo(mat)) != NULL) {
        char d[64];
        dims_str(v, d, sizeof d);
        if (o + strlen(v->name) + 80 < n)
            o += (size_t)snprintf(buf + o, n - o, "%s%s (%s %s)", o ? ", " : "", v->name, d,
                                  mat_class(v->class_type));
        Mat_VarFree(v);
    }
    Mat_Close(mat);
}

static void field_list(matvar_t *v, char *buf, size_t n)
{
    buf[0] = 0;
    unsigned nf = Mat_VarGetNumberOfFields(v);
    char *const *names = Mat_VarGetStructFieldnames(v);
    size_t o = 0;
    for (unsigned i = 0; i < nf && names; i++)
        if (o + strlen(names[i]) + 4 < n) o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", names[i]);
}

static size_t numel(const matvar_t *v)
{
    size_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->dims[i];
    return n;
}

/* Column-major numeric matvar into a row-major double array. */
static sl_status mat_numeric(const matvar_t *v, const char *what, double **data, int *ndim,
                             int64_t *shape)
{
    char d[64];
    dims_str(v, d, sizeof d);
    if (v->class_type == MAT_C_CELL || v->class_type == MAT_C_STRUCT ||
        v->class_type == MAT_C_CHAR || v->class_type == MAT_C_SPARSE ||
        v->class_type == MAT_C_FUNCTION || v->class_type == MAT_C_OBJECT || v->class_type == MAT_C_EMPTY)
        return sl_fail(SL_EINVAL, "%s is a %s %s array, not numbers%s", what, d,
                       mat_class(v->class_type),
                       v->class_type == MAT_C_STRUCT ? " (pick a field: NAME(i).FIELD)"
                       : v->class_type == MAT_C_CELL ? " (pick an element: NAME{i})" : "");
    if (v->isComplex) return sl_fail(SL_EINVAL, "%s is complex; need real numbers", what);
    if (v->rank > SL_MAX_DIMS) return sl_fail(SL_EINVAL, "%s has %d dimensions (at most %d)", what, v->rank, SL_MAX_DIMS);
    size_t n = numel(v);
    double *col = malloc((n ? n : 1) * sizeof *col), *row = malloc((n ? n : 1) * sizeof *row);
    if (!col || !row) {
        free(col);
        free(row);
        return sl_fail(SL_ENOMEM, "out of memory reading %s", what);
    }
    for (size_t i = 0; i < n; i++) switch (v->data_type) {
        case MAT_T_DOUBLE: col[i] = ((const double *)v->data)[i]; break;
        case MAT_T_SINGLE: col[i] = ((const float *)v->data)[i]; break;
        case MAT_T_INT8: col[i] = ((const int8_t *)v->data)[i]; break;
        case MAT_T_UINT8: col[i] = ((const uint8_t *)v->data)[i]; break;
        case MAT_T_INT16: col[i] = ((const int16_t *)v->data)[i]; break;
        case MAT_T_UINT16: col[i] = ((const uint16_t *)v->data)[i]; break;
        case MAT_T_INT32: col[i] = ((const int32_t *)v->data)[i]; break;
        case MAT_T_UINT32: col[i] = ((const uint32_t *)v->data)[i]; break;
        case MAT_T_INT64: col[i] = (double)((const int64_t *)v->data)[i]; break;
        case MAT_T_UINT64: col[i] = (double)((const uint64_t *)v->data)[i]; break;
        default:
            free(col);
            free(row);
            return sl_fail(SL_EINVAL, "%s: unsupported MATLAB storage type %d", what, (int)v->data_type);
        }
    /* column-major (i0 fastest) → row-major (last fastest), same dims order */
    int r = v->rank;
    size_t idx[SL_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t rm = 0;
        for (int a = 0; a < r; a++) rm = rm * v->dims[a] + idx[a];
        row[rm] = col[i];
        for (int a = 0; a < r; a++) {
            if (++idx[a] < v->dims[a]) break;
            idx[a] = 0;
        }
    }
    free(col);
    *data = row;
    *ndim = r;
    for (int a = 0; a < r; a++) shape[a] = (int64_t)v->dims[a];
    return SL_OK;
}

/* One 1-based index list "(i)" / "(i,j)" / "{i}" into a linear 0-based index. */
static sl_status parse_index(const char **p, char close, const matvar_t *v, const char *what,
                             int *lin)
{
    long ix[SL_MAX_DIMS];
    int n = 0;
    const char *s = *p;
    for (;;) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s || n == SL_MAX_DIMS) return sl_fail(SL_EINVAL, "%s: bad index near '%s'", what, *p - 1);
        ix[n++] = x;
        s = end;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s != close) return sl_fail(SL_EINVAL, "%s: expected '%c' near '%s'", what, close, s);
        s++;
        break;
    }
    char d[64];
    dims_str(v, d, sizeof d);
    size_t total = numel(v), linear = 0, mult = 1;
    if (n == 1) {
        if (ix[0] < 1 || (size_t)ix[0] > total)
            return sl_fail(SL_EINVAL, "%s: index %ld is out of range (the array is %s, %zu "
                           "elements; indices are 1-based)", what, ix[0], d, total);
        linear = (size_t)ix[0] - 1;
    } else {
        if (n != v->rank) return sl_fail(SL_EINVAL, "%s: %d indices for a %d-D array (%s)", what, n, v->rank, d);
        for (int a = 0; a < n; a++) {
            if (ix[a] < 1 || (size_t)ix[a] > v->dims[a])
                return sl_fail(SL_EINVAL, "%s: index %ld of dimension %d is out of range (%s)",
                               what, ix[a], a + 1, d);
            linear += ((size_t)ix[a] - 1) * mult;
            mult *= v->dims[a];
        }
    }
    *lin = (int)linear;
    *p = s;
    return SL_OK;
}

static sl_status read_mat(const char *path, const char *expr, double **data, int *ndim,
                          int64_t *shape)
{
    char name[256];
    size_t ln = strcspn(expr, ".({");
    if (ln == 0 || ln >= sizeof name)
        return sl_fail(SL_EINVAL, "%s: expected FILE.mat:VARIABLE, got ':%s'", path, expr);
    memcpy(name, expr, ln);
    name[ln] = 0;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) return sl_fail(SL_EIO, "cannot open %s as a MATLAB file", path);
    matvar_t *top = Mat_VarRead(mat, name);
    Mat_Close(mat);
    if (!top) {
        char vars[2048];
        list_vars(path, vars, sizeof vars);
        return sl_fail(SL_EINVAL, "%s has no variable '%s'; it holds: %s", path, name,
                       vars[0] ? vars : "(nothing readable)");
    }
    char what[512];
    snprintf(what, sizeof what, "%s:%s", path, name);
    matvar_t *cur = top;
    const char *p = expr + ln;
    int pending = -1; /* a (i) on a struct array waiting for its .field */
    sl_status st = SL_OK;
    while (*p && !st) {
        if (*p == '.') {
            const char *f = ++p;
            size_t lf = strcspn(f, ".({");
            char field[256];
            if (lf == 0 || lf >= sizeof field) {
                st = sl_fail(SL_EINVAL, "%s: bad field name near '%s'", what, f);
                break;
            }
            memcpy(field, f, lf);
            field[lf] = 0;
            if (cur->class_type != MAT_C_STRUCT) {
                st = sl_fail(SL_EINVAL, "%s is a %s array, it has no field '%s'", what,
                             mat_class(cur->class_type), field);
                break;
            }
            size_t ns = numel(cur);
            if (pending < 0 && ns != 1) {
                char d[64];
                dims_str(cur, d, sizeof d);
                st = sl_fail(SL_EINVAL, "%s is a %s struct array: pick one element, e.g. "
                             "%s(1).%s", what, d, what, field);
                break;
            }
            matvar_t *nx = Mat_VarGetStructFieldByName(cur, field, pending < 0 ? 0 : (size_t)pending);
            if (!nx) {
                char fl[1024];
                field_list(cur, fl, sizeof fl);
                st = sl_fail(SL_EINVAL, "%s has no field '%s'; its fields: %s", what, field, fl);
                break;
            }
            size_t o = strlen(what);
            snprintf(what + o, sizeof what - o, ".%s", field);
            cur = nx;
            pending = -1;
            p = f + lf;
        } else if (*p == '(' || *p == '{') {
            char close = *p == '(' ? ')' : '}';
            const char *start = p;
            p++;
            int lin = 0;
            if ((st = parse_index(&p, close, cur, what, &lin))) break;
            size_t o = strlen(what);
            snprintf(what + o, sizeof what - o, "%.*s", (int)(p - start), start);
            if (cur->class_type == MAT_C_CELL) {
                matvar_t *nx = Mat_VarGetCell(cur, lin);
                if (!nx) {
                    st = sl_fail(SL_EINVAL, "%s: no such cell element", what);
                    break;
                }
                cur = nx;
            } else if (cur->class_type == MAT_C_STRUCT && close == ')') {
                pending = lin;
            } else {
                st = sl_fail(SL_EINVAL, "%s: indexing into a %s array is not supported (index "
                             "struct arrays with (i), cells with {i})", what,
                             mat_class(cur->class_type));
            }
        } else {
            st = sl_fail(SL_EINVAL, "%s: unexpected '%s' (use .FIELD, (i) or {i})", what, p);
        }
    }
    if (!st && pending >= 0)
        st = sl_fail(SL_EINVAL, "%s is a struct: pick a field, e.g. %s.FIELD", what, what);
    if (!st) st = mat_numeric(cur, what, data, ndim, shape);
    Mat_VarFree(top);
    return st;
}

sl_status sl_read_array(const char *spec, double **data, int *ndim, int64_t *shape)
{
    *data = NULL;
    const char *colon = NULL;
    /* FILE.mat:EXPR — the colon after ".mat" */
    const char *m = strstr(spec, ".mat:");
    if (m) colon = m + 4;
    if (colon) {
        char *path = strndup(spec, (size_t)(colon - spec));
        if (!path) return sl_fail(SL_ENOMEM, "out of memory");
        sl_status st = read_mat(path, colon + 1, data, ndim, shape);
        free(path);
        return st;
    }
    size_t n = strlen(spec);
    if (n > 4 && !strcmp(spec + n - 4, ".npy")) {
        sl_array a;
        sl_status st = sl_npy_read(spec, &a);
        if (st) return st;
        st = npy_to_double(&a, data);
        *ndim = a.ndim;
        for (int i = 0; i < a.ndim; i++) shape[i] = a.shape[i];
        sl_array_free(&a);
        return st;
    }
    if (n > 4 && !strcmp(spec + n - 4, ".mat"))
        return sl_fail(SL_EINVAL, "%s: name the variable too, as %s:VARIABLE", spec, spec);
    return sl_fail(SL_EINVAL, "'%s': expected FILE.npy or FILE.mat:VARIABLE", spec);
}

/* ------------------------------------------------------------ compare */

void sl_compare_free(sl_compare_result *r)
{
    free(r->rho);
    free(r->model_rdm);
    free(r->data_rdm);
    free(r->model_pcs);
    free(r->data_pcs);
    memset(r, 0, sizeof *r);
}

static sl_status side_dynamics(const double *X, const double *Z, int C, int T, int N, int k,
                               double dt, int s, sl_compare_result *o)
{
    sl_jpca_result j;
    o->side[s].rotation_strength = o->side[s].r2_skew = o->side[s].r2_linear = NAN;
    int kj = 6;
    if (kj > N) kj = N - N % 2;
    if (kj > C * (T - 1)) kj = (C * (T - 1)) - (C * (T - 1)) % 2;
    sl_status st = SL_OK;
    if (C >= 2 && T >= 3 && kj >= 2) {
        st = sl_jpca_fit(X, C, T, N, dt, -1, kj, &j);
        if (st) return st;
        o->side[s].rotation_strength = j.rotation_strength;
        o->side[s].r2_skew = j.r2_skew;
        o->side[s].r2_linear = j.r2_linear;
        sl_jpca_free(&j);
    }
    if ((st = sl_tangling(Z, C, T, k, dt, 0.1, NULL, &o->side[s].tangling_median))) return st;
    return sl_dimensionality(X, C * T, N, &o->side[s].dimensionality);
}

sl_status sl_compare_activity(const double *model, int Nm, const double *data, int Nd, int C,
                              int T, double dt_s, int k, sl_compare_result *out)
{
    memset(out, 0, sizeof *out);
    if (C < 1 || T < 2 || Nm < 1 || Nd < 1)
        return sl_fail(SL_EINVAL, "compare: need ≥ 1 condition, ≥ 2 times and units on both "
                       "sides, got C = %d, T = %d, model %d units, data %d neurons", C, T, Nm, Nd);
    const int n = C * T;
    sl_status st = geo_check_finite(model, (size_t)n * Nm, "compare: model rates");
    if (!st) st = geo_check_finite(data, (size_t)n * Nd, "compare: recorded data");
    if (st) return st;
    int lim = Nm < Nd ? Nm : Nd;
    if (n < lim) lim = n;
    if (k <= 0 || k > lim) k = lim;
    out->k = k;
    int km, kd;
    if ((st = geo_reduce(model, C, T, Nm, k, &out->model_pcs, &km))) goto fail;
    if ((st = geo_reduce(data, C, T, Nd, k, &out->data_pcs, &kd))) goto fail;
    const double *Zm = out->model_pcs, *Zd = out->data_pcs;
    out->rho = malloc((size_t)k * sizeof *out->rho);
    double *Gm = malloc((size_t)n * n * sizeof *Gm), *Gd = malloc((size_t)n * n * sizeof *Gd);
    out->model_rdm = malloc((size_t)C * C * sizeof(double));
    out->data_rdm = malloc((size_t)C * C * sizeof(double));
    if (!out->rho || !Gm || !Gd || !out->model_rdm || !out->data_rdm) {
        free(Gm);
        free(Gd);
        st = sl_fail(SL_ENOMEM, "compare: out of memory");
        goto fail;
    }
    st = sl_cca(Zm, Zd, n, k, k, out->rho, &out->cca_mean_r2);
    if (!st) st = sl_svcca(model, data, n, Nm, Nd, 0.99, &out->svcca_mean);
    if (!st) {
        out->cka_linear = sl_cka_linear(Zm, Zd, n, k, k, 0);
        out->cka_linear_debiased = sl_cka_linear(Zm, Zd, n, k, k, 1);
        sl_gram_linear(Zm, n, k, Gm);
        sl_gram_linear(Zd, n, k, Gd);
        out->cka_linear_gram = sl_cka_gram(Gm, Gd, n, 0);
        out->cka_linear_gram_debiased = sl_cka_gram(Gm, Gd, n, 1);
        st = sl_gram_rbf(Zm, n, k, 0.5, Gm);
        if (!st) st = sl_gram_rbf(Zd, n, k, 0.5, Gd);
        if (!st) out->cka_rbf = sl_cka_gram(Gm, Gd, n, 0);
    }
    free(Gm);
    free(Gd);
    if (!st) st = sl_procrustes(Zm, Zd, n, k, k, &out->procrustes, &out->procrustes_angular);
    double *tmp = st ? NULL : malloc((size_t)C * C * sizeof *tmp);
    double *tmp2 = st ? NULL : malloc((size_t)C * C * sizeof *tmp2);
    if (!st && (!tmp || !tmp2)) st = sl_fail(SL_ENOMEM, "compare: out of memory");
    for (int met = 0; met < 2 && !st; met++) {
        double *A = met ? tmp : out->model_rdm, *B = met ? tmp2 : out->data_rdm;
        st = sl_rdm(Zm, C, T * k, met ? SL_RDM_CORRELATION : SL_RDM_EUCLIDEAN, A);
        if (!st) st = sl_rdm(Zd, C, T * k, met ? SL_RDM_CORRELATION : SL_RDM_EUCLIDEAN, B);
        for (int h = 0; h < 4 && !st; h++) out->rsa[met][h] = sl_rdm_compare(A, B, C, (sl_rdm_comparison)h);
        out->rsa_p_spearman[met] = NAN;
        if (!st && C >= 3) {
            double r;
            if (sl_rdm_permutation_p(A, B, C, SL_RDM_SPEARMAN, 10000, 1, &r, &out->rsa_p_spearman[met]))
                out->rsa_p_spearman[met] = NAN; /* undefined for a constant RDM */
        }
    }
    free(tmp);
    free(tmp2);
    if (!st) st = side_dynamics(model, Zm, C, T, Nm, k, dt_s, 0, out);
    if (!st) st = side_dynamics(data, Zd, C, T, Nd, k, dt_s, 1, out);
    if (!st) return SL_OK;
fail:
    sl_compare_free(out);
    return st;
}
