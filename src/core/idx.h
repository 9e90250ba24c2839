/* idx.h — IDX files, the format of MNIST and Fashion-MNIST (LeCun's
 * http://yann.lecun.com/exdb/mnist/ "FILE FORMATS"), raw or gzip'd. */
#ifndef SL_CORE_IDX_H
#define SL_CORE_IDX_H

#include "silico.h"

/* Reads an IDX file (gzip'd or not: detected from its content) into *out,
 * allocating out->data (free with sl_array_free). The dtype follows the
 * file's type byte: 0x08 unsigned byte → SL_U8 (MNIST images 0x00000803,
 * labels 0x00000801); 0x09 signed byte, 0x0B short and 0x0C int → SL_I32;
 * 0x0D float → SL_F32; 0x0E double → SL_F64 (big-endian on disk, native in
 * memory). The shape is the header's, 1 to SL_MAX_DIMS dimensions, each ≥ 1.
 * A bad magic number, a zero or oversized dimension, a file shorter than its
 * header says ("t10k-images-idx3-ubyte.gz: truncated: header says
 * 10000×28×28 images, file holds 9999"), trailing bytes or corrupt gzip data
 * are SL_EFORMAT naming the file; a file that cannot be opened is SL_EIO.
 * On failure out->data is NULL. */
sl_status sl_idx_read(const char *path, sl_array *out);

/* out[i] = (x[i]/255 − mean)/std for the n bytes of x: torchvision's
 * ToTensor() then Normalize((mean,), (std,)) (the seed: MNIST 0.1307,
 * 0.3081). */
void sl_idx_u8_to_real(const unsigned char *x, size_t n, double mean, double std, sl_real *out);

#endif
