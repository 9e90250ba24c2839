/* cnn.h — the feed-forward network of the vision pathway (issue 6): a
 * sequence of the layers in layers.h, its parameters in one flat buffer.
 * Internal layout shared by cnn.c, the trainer and the CNN analyses; the
 * public API is in include/silico.h ("vision: CNNs"). */
#ifndef SL_NN_CNN_H
#define SL_NN_CNN_H

#include <stdint.h>

#include "nn/layers.h"
#include "silico.h"

#define SL_CNN_MAX_LAYERS 64

typedef enum {
    SL_LAYER_CONV = 0,
    SL_LAYER_MAXPOOL,
    SL_LAYER_AVGPOOL,
    SL_LAYER_FLATTEN,
    SL_LAYER_LINEAR,
    SL_LAYER_RELU,
    SL_LAYER_ACT /* tanh, sigmoid, softplus, rect_tanh (act.h's scalar functions) */
} sl_layer_kind;

typedef struct {
    sl_layer_kind kind;
    char name[24];       /* "conv1", "relu1", "pool1", "flatten", "fc1", ... */
    sl_activation act;   /* SL_LAYER_ACT */
    int in[3], out[3];   /* C, H, W (dense: F, 1, 1) */
    int dense_in;        /* the input is dense (or flattened): F = in[0]·in[1]·in[2] */
    sl_conv2d_shape conv; /* N unset (set per call) */
    sl_pool2d_shape pool;
    int w_tensor;        /* index of its weight tensor (−1 if none); bias = w_tensor + 1 */
    size_t argmax_off;   /* maxpool: offset into the workspace's argmax buffer (per image) */
} sl_cnn_layer;

typedef struct {
    char name[40];     /* "conv1.weight" */
    int ndim;
    int64_t shape[4];
    size_t offset, numel;
} sl_cnn_tensor;

struct sl_cnn {
    char *layers_text; /* model.layers as given */
    int in[3];
    int n_layers;
    sl_cnn_layer L[SL_CNN_MAX_LAYERS];
    int n_tensors;
    sl_cnn_tensor T[2 * SL_CNN_MAX_LAYERS];
    size_t n_params;
    size_t n_argmax; /* maxpool indices per image, every maxpool layer */
    sl_real *params, *grads;
};

static inline size_t sl_cnn_layer_size(const sl_cnn_layer *l)
{
    return (size_t)l->out[0] * l->out[1] * l->out[2];
}

/* Views of buf (m's parameter layout) as float32 tensors named
 * prefix + "conv1.weight", ...; *scratch gets the float32 copy (free it). */
sl_status sl_cnn_to_tensors(const sl_cnn *m, const sl_real *buf, const char *prefix, sl_tensor *t,
                            char names[][64], float **scratch);
/* The reverse: tensors prefix + name from f into buf (dtype, shape and
 * finiteness checked; path names the file in messages). */
sl_status sl_cnn_from_tensors(const sl_cnn *m, const sl_tensorfile *f, const char *path,
                              const char *prefix, sl_real *buf);

#endif
