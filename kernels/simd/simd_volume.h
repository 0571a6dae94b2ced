/*
 * The volume every WebAssembly SIMD kernel of the module reads (simd_volume.c sets it), and the
 * vector shorthands they share.
 *
 * Memory (the module imports it, simd_kernels.ts lays it out): the buffers of a call, then the
 * volume's copies as float32, C order (k fastest), with `pad` voxels of zeros on every side: voxel
 * (i, j, k) is density[i strideX + j strideY + k] for i in [-pad, X + pad) (and so for j, k),
 * strideY = Z + 2 pad, strideX = (Y + 2 pad) strideY. The Siddon kernels read a copy without
 * padding; the Trilinear ones one with TRILINEAR_PAD.
 *
 * TRILINEAR_PAD is Trilinear's zero padding, read in place: every cell the cell walk visits has its
 * eight corners inside the padded copy (trilinear_cells.c), so the walk reads them without masks.
 * Two voxels: its rays' samples lie within [-1, N) per axis but for one sample step
 * (TrilinearSampler.clip), and a step is under one cell (CELL_WALK_MAX_STEP), so their cells'
 * lower corners lie in [-2, N] and their upper ones in [-1, N + 1]. (Siddon keeps its own copy:
 * the padded strides cost its walk ~5%, through the caches.)
 */
#ifndef SIMD_VOLUME_H
#define SIMD_VOLUME_H

#include <wasm_simd128.h>

typedef v128_t V;

/* `mask ? a : b`, bit by bit (masks are all ones or all zeros per lane). */
#define SEL(mask, a, b) wasm_v128_bitselect(a, b, mask)

/* Voxels of zeros on each side of the Trilinear kernels' copy of the volume. */
#define TRILINEAR_PAD 2

/* The volume the next call reads (set_volume): voxel (0, 0, 0), the shape, the strides and the last voxel's flat index. */
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
