/*
 * The volume every WebAssembly SIMD kernel of the module reads (simd_volume.c sets it), and the
 * vector shorthands they share.
 *
 * Memory (the module imports it, simd_kernels.ts lays it out): the buffers of a call, then the
 * volume as float32, C order [X, Y, Z] (k fastest), flat index (i Y + j) Z + k.
 */
#ifndef SIMD_VOLUME_H
#define SIMD_VOLUME_H

#include <wasm_simd128.h>

typedef v128_t V;

/* `mask ? a : b`, bit by bit (masks are all ones or all zeros per lane). */
#define SEL(mask, a, b) wasm_v128_bitselect(a, b, mask)

/* The volume: its voxels, shape and strides (strideX = Y Z, strideY = Z), and its last flat index. */
extern const float *density;
extern int sizeX, sizeY, sizeZ, strideX, strideY, lastVoxel;

/*
 * Doubles per ray in a call's sums buffer (simd_kernels.ts SUM_FIELDS): Trilinear's RaySum (F, A,
 * B'); Siddon's sum and, with the jumps, its gradient row (6).
 */
#define SUM_FIELDS 7

/* A ray's status after a call (the JS side's RayStatus). */
#define RAY_SUMMED 0
#define RAY_FOR_JS 1

static inline int finite(double x) { return x - x == 0; }

#endif
