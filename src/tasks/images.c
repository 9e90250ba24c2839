/* images.c — image classification tasks: MNIST-format IDX files
 * (task.name = fashion_mnist, mnist, idx) as a batch source.
 *
 *   input  u[b] = (x_b/255 − mean)/std   (torchvision's ToTensor + Normalize)
 *   label  y[b] ∈ [0, K)
 *
 * One image is one step (T = 1, n_in = C·H·W in NCHW order, labels B×1,
 * every row scored). TRAIN is the training file, reshuffled at every epoch
 * from the run's batch stream (DataLoader(shuffle=True)); VAL is the test
 * file in file order — the held-out test set the trainer validates on and
 * summary.json's accuracy is measured on; HOLDOUT is empty. The last batch
 * of a split may be short.
 *
 * Normalisation (task.normalize = mean,std; empty = the dataset's usual
 * constants: MNIST 0.1307, 0.3081 as the seed; Fashion-MNIST 0.2860, 0.3530;
 * idx: the training images' own mean and std). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idx.h"
#include "tasks/images.h"

#define EVAL_BATCH 500
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    int C, H, W, K, batch;
    double mean, std;
    sl_image_split s[2]; /* 0 train, 1 test */
    int *order;          /* training permutation */
    sl_real *u;          /* max_batch × C·H·W */
    int *lab;            /* max_batch */
    unsigned char *dec;  /* max_batch ones: every image is a scored decision */
} image_task;

static int split_index(sl_split sp) { return sp == SL_SPLIT_TRAIN ? 0 : sp == SL_SPLIT_VAL ? 1 : -1; }

static int img_num_batches(sl_task *t, sl_split sp)
{
    image_task *d = t->impl;
    int k = split_index(sp);
    if (k < 0) return 0;
    int B = k == 0 ? d->batch : EVAL_BATCH;
    return (d->s[k].n + B - 1) / B;
}

static sl_status img_start_epoch(sl_task *t, sl_split sp, sl_rng *rng)
{
    image_task *d = t->impl;
    if (sp != SL_SPLIT_TRAIN) return SL_OK;
    for (int i = 0; i < d->s[0].n; i++) d->order[i] = i;
    if (rng) sl_rng_shuffle(rng, d->order, d->s[0].n);
    return SL_OK;
}

static sl_status img_batch(sl_task *t, sl_split sp, int index, sl_rng *rng, sl_batch *out)
{
    (void)rng;
    image_task *d = t->impl;
    int k = split_index(sp);
    memset(out, 0, sizeof *out);
    if (k < 0 || index < 0 || index >= img_num_batches(t, sp))
        return sl_fail(SL_EINVAL, "%s: no batch %d in this split", t->ops->name, index);
    const int B = k == 0 ? d->batch : EVAL_BATCH, i0 = index * B;
    const int nb = d->s[k].n - i0 < B ? d->s[k].n - i0 : B;
    const size_t P = (size_t)d->C * d->H * d->W;
    const double inv = 1.0 / d->std;
    for (int b = 0; b < nb; b++) {
        const int i = k == 0 ? d->order[i0 + b] : i0 + b;
        sl_real *dst = d->u + (size_t)b * P;
        if (d->s[k].u8)
            sl_idx_u8_to_real(d->s[k].u8 + (size_t)i * P, P, d->mean, d->std, dst);
        else
            for (size_t p = 0; p < P; p++)
                dst[p] = (sl_real)((d->s[k].f[(size_t)i * P + p] - d->mean) * inv);
        d->lab[b] = d->s[k].labels[i];
    }
    out->B = nb, out->T = 1, out->n_in = (int)P, out->n_out = d->K;
    out->u = d->u;
    out->labels = d->lab;
    out->decision = d->dec;
    return SL_OK;
}

static void free_split(sl_image_split *s)
{
    free(s->u8);
    free(s->f);
    free(s->labels);
}

static void img_destroy(sl_task *t)
{
    if (!t) return;
    image_task *d = t->impl;
    if (d) {
        free_split(&d->s[0]);
        free_split(&d->s[1]);
        free(d->order);
        free(d->u);
        free(d->lab);
        free(d->dec);
        free(d);
    }
    free(t);
}

/* one ops table per task name (sl_task_ops.name is the task's name) */
#define IMAGE_OPS(nm) {nm, img_num_batches, img_start_epoch, img_batch, img_destroy, NULL}
static const sl_task_ops OPS[] = {IMAGE_OPS("fashion_mnist"), IMAGE_OPS("mnist"), IMAGE_OPS("idx"),
                                  IMAGE_OPS("gratings")};
#define N_OPS (int)(sizeof OPS / sizeof OPS[0])

sl_status sl_image_task_wrap(const char *name, int C, int H, int W, int n_classes,
                             sl_image_split train, sl_image_split test, double mean, double std,
                             int batch, sl_task **out)
{
    *out = NULL;
    int which = -1;
    for (int i = 0; i < N_OPS; i++)
        if (!strcmp(name, OPS[i].name)) which = i;
    sl_status st = SL_OK;
    if (which < 0) st = sl_fail(SL_EINVAL, "images: unknown image task '%s'", name);
    else if (train.n < 1 || test.n < 1)
        st = sl_fail(SL_EINVAL, "%s: needs training and test images (got %d and %d)", name, train.n,
                     test.n);
    else if (!(std > 0) || !isfinite(mean))
        st = sl_fail(SL_EINVAL, "%s: normalisation std %g must be > 0", name, std);
    for (int k = 0; !st && k < 2; k++) {
        const sl_image_split *s = k ? &test : &train;
        for (int i = 0; i < s->n; i++)
            if (s->labels[i] < 0 || s->labels[i] >= n_classes) {
                st = sl_fail(SL_EINVAL, "%s: %s label %d of image %d is not in [0, %d)", name,
                             k ? "test" : "training", s->labels[i], i, n_classes);
                break;
            }
    }
    image_task *d = st ? NULL : calloc(1, sizeof *d);
    sl_task *t = st ? NULL : calloc(1, sizeof *t);
    if (!st && (!d || !t)) st = sl_fail(SL_ENOMEM, "out of memory");
    if (st) {
        free_split(&train);
        free_split(&test);
        free(d);
        free(t);
        return st;
    }
    d->C = C, d->H = H, d->W = W, d->K = n_classes, d->batch = batch;
    d->mean = mean, d->std = std;
    d->s[0] = train, d->s[1] = test;
    const int maxb = batch > EVAL_BATCH ? batch : EVAL_BATCH;
    d->order = malloc((size_t)train.n * sizeof(int));
    d->u = malloc((size_t)maxb * C * H * W * sizeof(sl_real));
    d->lab = malloc((size_t)maxb * sizeof(int));
    d->dec = malloc((size_t)maxb);
    t->impl = d;
    if (!d->order || !d->u || !d->lab || !d->dec) {
        img_destroy(t);
        return sl_fail(SL_ENOMEM, "%s: out of memory", name);
    }
    for (int i = 0; i < train.n; i++) d->order[i] = i;
    memset(d->dec, 1, (size_t)maxb);
    t->ops = &OPS[which];
    t->n_in = C * H * W;
    t->n_out = n_classes;
    t->T = 1;
    t->dt_ms = 1;
    t->max_batch = maxb;
    t->classification = 1;
    *out = t;
    return SL_OK;
}

sl_status sl_task_image_shape(const sl_task *t, int shape[3], double *mean, double *std)
{
    if (!t || !t->ops || t->ops->destroy != img_destroy)
        return sl_fail(SL_EINVAL, "task '%s' is not an image task (fashion_mnist, mnist, idx, gratings)",
                       t && t->ops ? t->ops->name : "?");
    const image_task *d = t->impl;
    shape[0] = d->C, shape[1] = d->H, shape[2] = d->W;
    if (mean) *mean = d->mean;
    if (std) *std = d->std;
    return SL_OK;
}

/* ------------------------------------------------------------ IDX files */

/* images (n×H×W bytes) and labels (n) from two IDX files; limit > 0 keeps
 * the first `limit` */
static sl_status read_pair(const char *img_path, const char *lab_path, int limit,
                           sl_image_split *s, int *H, int *W)
{
    sl_array im = {0}, lb = {0};
    memset(s, 0, sizeof *s);
    sl_status st = sl_idx_read(img_path, &im);
    if (!st) st = sl_idx_read(lab_path, &lb);
    if (!st && (im.dtype != SL_U8 || im.ndim != 3))
        st = sl_fail(SL_EFORMAT, "%s: want unsigned-byte images n×H×W (magic 0x00000803)", img_path);
    if (!st && (lb.ndim != 1 || (lb.dtype != SL_U8 && lb.dtype != SL_I32)))
        st = sl_fail(SL_EFORMAT, "%s: want a 1-D label vector (magic 0x00000801)", lab_path);
    if (!st && lb.shape[0] != im.shape[0])
        st = sl_fail(SL_EFORMAT, "%s holds %lld labels but %s holds %lld images", lab_path,
                     (long long)lb.shape[0], img_path, (long long)im.shape[0]);
    if (!st) {
        int n = (int)im.shape[0];
        if (limit > 0 && limit < n) n = limit;
        *H = (int)im.shape[1], *W = (int)im.shape[2];
        s->n = n;
        s->u8 = im.data; /* keeps the whole buffer; only the first n are read */
        im.data = NULL;
        s->labels = malloc((size_t)n * sizeof(int));
        if (!s->labels) st = sl_fail(SL_ENOMEM, "out of memory");
        for (int i = 0; !st && i < n; i++)
            s->labels[i] = lb.dtype == SL_U8 ? ((unsigned char *)lb.data)[i] : ((int32_t *)lb.data)[i];
    }
    sl_array_free(&im);
    sl_array_free(&lb);
    if (st) free_split(s), memset(s, 0, sizeof *s);
    return st;
}

/* path of file `base` in dir: base.gz if it exists, else base */
static void in_dir(const char *dir, const char *base, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.gz", dir, base);
    FILE *f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return;
    }
    snprintf(out, n, "%s/%s", dir, base);
}

sl_status sl_idx_task_create(const sl_config *c, sl_task **out)
{
    *out = NULL;
    const char *name = sl_config_str(c, "task.name");
    const int fashion = !strcmp(name, "fashion_mnist"), mnist = !strcmp(name, "mnist");
    const char *dir = sl_config_str(c, "task.image_dir");
    if (!*dir && fashion) dir = FASHION_DIR;
    char p[4][1024];
    const char *keys[4] = {"task.images", "task.labels", "task.test_images", "task.test_labels"};
    const char *bases[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int k = 0; k < 4; k++) {
        const char *v = sl_config_str(c, keys[k]);
        if (*v)
            snprintf(p[k], sizeof p[k], "%s", v);
        else if (*dir)
            in_dir(dir, bases[k], p[k], sizeof p[k]);
        else
            return sl_fail(SL_EINVAL,
                           "task.name = %s needs task.image_dir (the folder of "
                           "train-images-idx3-ubyte[.gz] and the other three MNIST files) or %s",
                           name, keys[k]);
    }
    sl_image_split tr, te;
    int H, W, H2, W2;
    sl_status st = read_pair(p[0], p[1], (int)sl_config_int(c, "task.n_train"), &tr, &H, &W);
    if (st) {
        if (fashion && !*sl_config_str(c, "task.image_dir"))
            return sl_fail_context(st, "Fashion-MNIST (install Debian's dataset-fashion-mnist: make deps)");
        return st;
    }
    if ((st = read_pair(p[2], p[3], (int)sl_config_int(c, "task.n_test"), &te, &H2, &W2))) {
        free_split(&tr);
        return st;
    }
    if (H2 != H || W2 != W) {
        free_split(&tr), free_split(&te);
        return sl_fail(SL_EFORMAT, "%s: test images are %d×%d but training images %d×%d", p[2], H2,
                       W2, H, W);
    }
    /* classes: 10 for (Fashion-)MNIST, else the largest label + 1 */
    int K = fashion || mnist ? 10 : 0;
    for (int i = 0; !fashion && !mnist && i < tr.n + te.n; i++) {
        const int y = i < tr.n ? tr.labels[i] : te.labels[i - tr.n];
        K = y + 1 > K ? y + 1 : K;
    }
    double norm[2], mean, std;
    int nn = sl_config_list(c, "task.normalize", norm, 2);
    if (nn == 2)
        mean = norm[0], std = norm[1];
    else if (nn != 0) {
        free_split(&tr), free_split(&te);
        return sl_fail(SL_EINVAL, "task.normalize: want 'mean, std' (or empty for the dataset's)");
    } else if (mnist)
        mean = 0.1307, std = 0.3081;
    else if (fashion)
        mean = 0.2860, std = 0.3530;
    else {
        double s1 = 0, s2 = 0;
        const size_t n = (size_t)tr.n * H * W;
        for (size_t i = 0; i < n; i++) {
            double x = tr.u8[i] / 255.0;
            s1 += x, s2 += x * x;
        }
        mean = s1 / n;
        std = sqrt(s2 / n - mean * mean);
        if (!(std > 0)) std = 1;
    }
    return sl_image_task_wrap(name, 1, H, W, K, tr, te, mean, std,
                              (int)sl_config_int(c, "train.batch"), out);
}
