/*
 * The Trilinear samples one by one for four rays at once (the sparse rays, fewer samples than
 * cells crossed, that `TrilinearSampler.integrate` sums sample by sample): at step t each lane
 * takes sample kb + t of its ray. The position `o + k e`, its cell (floor) and the fraction within
 * it are found in float64, as the JS loop finds them; the interpolation and the sums are float32 (see
 * trilinear_simd.h). When all four samples are interior their corners come through
 * `interior_corners`; otherwise (near a face, outside, or past the end of a ray) they are read
 * zero padded (`padded_corners`), as `TrilinearSampler.valueAt` reads them.
 */
#include "trilinear_simd.h"

/* float64 lanes 0-1 and 2-3 of four doubles. */
#define LOW(a) wasm_v128_load(a)
#define HIGH(a) wasm_v128_load((a) + 2)

/* floor(q) of four lanes (two float64x2) as int32x4 (saturating), and q - floor(q) as float32x4. */
static inline void split(V qL, V qH, V *cell, V *fraction) {
  const V fL = wasm_f64x2_floor(qL), fH = wasm_f64x2_floor(qH);
  *cell = wasm_i32x4_shuffle(wasm_i32x4_trunc_sat_f64x2_zero(fL), wasm_i32x4_trunc_sat_f64x2_zero(fH), 0, 1, 4, 5);
  *fraction = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(wasm_f64x2_sub(qL, fL)), wasm_f32x4_demote_f64x2_zero(wasm_f64x2_sub(qH, fH)), 0, 1, 4, 5);
}

/*
 * The walk, inlined once per value of `withGradient` (a constant there): the forward's loop then
 * carries no gradient sums or branch, and keeps more of its values in registers.
 */
static inline __attribute__((always_inline)) void four_rays(const double *rays, int count, double *out, const int withGradient) {
  double o[3][4], e[3][4], kb[4];
  float ke[4], kib[4], kie[4];
  int most = 0;
  for (int l = 0; l < 4; l++) {
    /* lane l takes sample kb + t at step t; the sample counts from kb are exact in float32 */
    const double *r = rays + RAY_FIELDS * l;
    const int real = l < count;
    for (int a = 0; a < 3; a++) {
      o[a][l] = real ? r[a] : 0;
      e[a][l] = real ? r[3 + a] : 0;
    }
    kb[l] = real ? r[6] : 0;
    ke[l] = real ? r[7] - r[6] : 0;
    kib[l] = real ? r[8] - r[6] : 0;
    kie[l] = real ? r[9] - r[6] : 0;
    if (ke[l] > most) most = (int)ke[l];
  }
  const V oxL = LOW(o[0]), oxH = HIGH(o[0]), oyL = LOW(o[1]), oyH = HIGH(o[1]), ozL = LOW(o[2]), ozH = HIGH(o[2]);
  const V exL = LOW(e[0]), exH = HIGH(e[0]), eyL = LOW(e[1]), eyH = HIGH(e[1]), ezL = LOW(e[2]), ezH = HIGH(e[2]);
  const V kbL = LOW(kb), kbH = HIGH(kb);
  const V keV = LOAD(ke), kibV = LOAD(kib), kieV = LOAD(kie);
  const V zero = wasm_f32x4_splat(0);
  const V sx = wasm_i32x4_splat(strideX), sy = wasm_i32x4_splat(strideY);
  V f = zero, ax = zero, ay = zero, az = zero, bx = zero, by = zero, bz = zero;
  for (int t = 0; t < most; t++) {
    const V kf = wasm_f32x4_splat((float)t);
    const V active = wasm_f32x4_lt(kf, keV);
    const V inside = wasm_v128_and(wasm_f32x4_ge(kf, kibV), wasm_f32x4_lt(kf, kieV));
    /* q = o + k e with k the absolute sample index: TrilinearSampler's float64 arithmetic, to the bit */
    const V tD = wasm_f64x2_splat((double)t);
    const V kL = wasm_f64x2_add(kbL, tD), kH = wasm_f64x2_add(kbH, tD);
    V i, j, q, ux, uy, uz;
    split(wasm_f64x2_add(oxL, wasm_f64x2_mul(kL, exL)), wasm_f64x2_add(oxH, wasm_f64x2_mul(kH, exH)), &i, &ux);
    split(wasm_f64x2_add(oyL, wasm_f64x2_mul(kL, eyL)), wasm_f64x2_add(oyH, wasm_f64x2_mul(kH, eyH)), &j, &uy);
    split(wasm_f64x2_add(ozL, wasm_f64x2_mul(kL, ezL)), wasm_f64x2_add(ozH, wasm_f64x2_mul(kH, ezH)), &q, &uz);
    V c[8];
    if (wasm_i32x4_all_true(inside)) {
      const V base = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(i, sx), wasm_i32x4_mul(j, sy)), q);
      interior_corners(wasm_i32x4_extract_lane(base, 0), wasm_i32x4_extract_lane(base, 1), wasm_i32x4_extract_lane(base, 2), wasm_i32x4_extract_lane(base, 3), c);
    } else {
      padded_corners(i, j, q, active, c);
    }
    /* TrilinearSampler.valueAt's arithmetic */
    const V dz00 = SUB(c[1], c[0]), dz01 = SUB(c[3], c[2]), dz10 = SUB(c[5], c[4]), dz11 = SUB(c[7], c[6]);
    const V c00 = ADD(c[0], MUL(uz, dz00)), c01 = ADD(c[2], MUL(uz, dz01)), c10 = ADD(c[4], MUL(uz, dz10)), c11 = ADD(c[6], MUL(uz, dz11));
    const V c0 = ADD(c00, MUL(uy, SUB(c01, c00))), c1 = ADD(c10, MUL(uy, SUB(c11, c10)));
    const V gx = SUB(c1, c0);
    f = ADD(f, ADD(c0, MUL(ux, gx)));
    if (withGradient) {
      const V d0 = SUB(c01, c00);
      const V gy = ADD(d0, MUL(ux, SUB(SUB(c11, c10), d0)));
      const V gz0 = ADD(dz00, MUL(uy, SUB(dz01, dz00)));
      const V gz = ADD(gz0, MUL(ux, SUB(ADD(dz10, MUL(uy, SUB(dz11, dz10))), gz0)));
      ax = ADD(ax, gx);
      ay = ADD(ay, gy);
      az = ADD(az, gz);
      bx = ADD(bx, MUL(kf, gx));
      by = ADD(by, MUL(kf, gy));
      bz = ADD(bz, MUL(kf, gz));
    }
  }
  const V sums[SUM_FIELDS] = {f, ax, ay, az, bx, by, bz};
  store_sums(sums, count, out);
}

/* Sums of four rays (`count` of them real) into out[0 .. SUM_FIELDS count) (see trilinear_simd.h). */
void samples_four_rays(const double *rays, int count, double *out, int withGradient) {
  if (withGradient) {
    four_rays(rays, count, out, 1);
  } else {
    four_rays(rays, count, out, 0);
  }
}
