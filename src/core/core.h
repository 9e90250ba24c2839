/* core.h — helpers shared by the files of src/core/ (not public API). */
#ifndef SILICO_CORE_H
#define SILICO_CORE_H

#include "silico.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "silico's file formats (.npy, .safetensors) are read and written on little-endian hosts only"
#endif

/* Bytes of an array of the given dtype and shape; 0 when a dimension is
 * negative or the size overflows (*bytes is then unspecified). npy.c */
int slc_shape_bytes(sl_dtype t, int ndim, const int64_t *shape, size_t *bytes);

/* The shortest "%.Ng" text of v that reads back to the same double
 * (N = 15..17). buf needs 32 bytes. metrics.c */
void slc_format_double(char *buf, size_t n, double v);

#endif
