/*
 * The Trilinear cell walk (kernels/shared/trilinear_cell_sums.ts) for four rays at once: each lane
 * walks its own ray through the cells of the trilinear grid and sums the samples of each cell in
 * closed form, the same formulas as `cellSums` (see that file's comment); the plane crossings in
 * float64, the rest in float32 (see trilinear_simd.h). Every cell a ray visits has its corners in
 * the volume or in the zero padding of the Trilinear kernels' copy of it (simd_volume.h
 * TRILINEAR_PAD), so all four lanes' corners come through `interior_corners`, with no mask; a lane
 * whose ray has ended stays on its last cell and adds nothing.
 */
#include "trilinear_simd.h"

/*
 * Stands for "no crossing" (an axis the ray runs parallel to): far beyond any sample index. The
 * JS walk's value (trilinear_cell_sums.ts NO_CROSSING), so that both clamp alike.
 */
#define NO_CROSSING 4503599627370496.0

/* The sample index at which `o + k e` leaves cell `cell` along one axis (CellWalk.firstCrossing). */
static double first_crossing(double o, double e, double cell) {
  double v = e > 0 ? (cell + 1 - o) / e : e < 0 ? (cell - o) / e : NO_CROSSING;
  return v < NO_CROSSING ? v : NO_CROSSING;
}

/* 1 / |e| at most NO_CROSSING (CellWalk.start's increments). */
static double increment(double e) {
  double v = 1 / __builtin_fabs(e);
  return v < NO_CROSSING ? v : NO_CROSSING;
}

/*
 * One lane's start, as fields to load into vectors. The walk (first cell, crossings, their sample
 * indices) is CellWalk.start's, from the ray's own `o` and absolute sample indices, to the bit
 * (sample indices are integers below 2^24, exact in float32); positions are taken relative to
 * the cell (`px`: small numbers, for float32).
 */
typedef struct {
  float ex[4], ey[4], ez[4], k[4], ke[4], kb[4];
  float px[4], py[4], pz[4], sx[4], sy[4], sz[4], crossings[4];
  double nx[4], ny[4], nz[4], ix[4], iy[4], iz[4];
  int base[4], stepX[4], stepY[4], stepZ[4];
} Lanes;

static int start_lane(Lanes *s, int l, const double *r) {
  const double ox = r[0], oy = r[1], oz = r[2], ex = r[3], ey = r[4], ez = r[5], kb = r[6], ke = r[7];
  const double kl = ke - 1;
  const double i = __builtin_floor(ox + kb * ex), j = __builtin_floor(oy + kb * ey), k = __builtin_floor(oz + kb * ez);
  const double crossings = __builtin_fabs(__builtin_floor(ox + kl * ex) - i) + __builtin_fabs(__builtin_floor(oy + kl * ey) - j) +
                           __builtin_fabs(__builtin_floor(oz + kl * ez) - k);
  const double fx = ox + kb * ex, fy = oy + kb * ey, fz = oz + kb * ez;
  s->ex[l] = ex; s->ey[l] = ey; s->ez[l] = ez;
  s->k[l] = kb; s->ke[l] = ke;
  s->kb[l] = kb;
  s->px[l] = fx - i; s->py[l] = fy - j; s->pz[l] = fz - k;
  s->nx[l] = first_crossing(ox, ex, i); s->ny[l] = first_crossing(oy, ey, j); s->nz[l] = first_crossing(oz, ez, k);
  s->ix[l] = increment(ex); s->iy[l] = increment(ey); s->iz[l] = increment(ez);
  s->sx[l] = ex > 0 ? 1 : -1; s->sy[l] = ey > 0 ? 1 : -1; s->sz[l] = ez > 0 ? 1 : -1;
  s->crossings[l] = crossings;
  s->base[l] = (int)i * strideX + (int)j * strideY + (int)k;
  s->stepX[l] = (ex > 0 ? 1 : -1) * strideX; s->stepY[l] = (ey > 0 ? 1 : -1) * strideY; s->stepZ[l] = ez > 0 ? 1 : -1;
  return (int)crossings;
}

/* A lane with no samples (pads a group of fewer than four rays). */
static void empty_lane(Lanes *s, int l) {
  s->ex[l] = s->ey[l] = s->ez[l] = 0;
  s->k[l] = s->ke[l] = 0;
  s->kb[l] = 0;
  s->px[l] = s->py[l] = s->pz[l] = 0;
  s->nx[l] = s->ny[l] = s->nz[l] = s->ix[l] = s->iy[l] = s->iz[l] = NO_CROSSING;
  s->sx[l] = s->sy[l] = s->sz[l] = 1;
  s->crossings[l] = -1;
  s->base[l] = s->stepX[l] = s->stepY[l] = s->stepZ[l] = 0;
}

/*
 * The walk, inlined once per value of `withGradient` (a constant there): the forward's loop then
 * carries no gradient sums or branch, and keeps more of its values in registers.
 */
static inline __attribute__((always_inline)) void four_rays(const double *rays, int count, double *out, const int withGradient) {
  Lanes s;
  int most = -1;
  for (int l = 0; l < 4; l++) {
    int c = l < count ? start_lane(&s, l, rays + RAY_FIELDS * l) : (empty_lane(&s, l), -1);
    if (c > most) most = c;
  }
  const V ex = LOAD(s.ex), ey = LOAD(s.ey), ez = LOAD(s.ez);
  const V ke = LOAD(s.ke);
  /* the crossings in float64 (lanes 0-1, 2-3), so that each sample goes to the cell the JS walk gives it */
  const V ixL = LOAD(s.ix), ixH = LOAD(s.ix + 2), iyL = LOAD(s.iy), iyH = LOAD(s.iy + 2), izL = LOAD(s.iz), izH = LOAD(s.iz + 2);
  V nxL = LOAD(s.nx), nxH = LOAD(s.nx + 2), nyL = LOAD(s.ny), nyH = LOAD(s.ny + 2), nzL = LOAD(s.nz), nzH = LOAD(s.nz + 2);
  const V signX = LOAD(s.sx), signY = LOAD(s.sy), signZ = LOAD(s.sz), crossings = LOAD(s.crossings);
  const V stepX = LOAD(s.stepX), stepY = LOAD(s.stepY), stepZ = LOAD(s.stepZ);
  V k = LOAD(s.k), px = LOAD(s.px), py = LOAD(s.py), pz = LOAD(s.pz);
  V base = LOAD(s.base);
  /* half the directions, and the samples' pairwise products over 12 (see the closed form below) */
  const V half = wasm_f32x4_splat(0.5f), twelfth = wasm_f32x4_splat(1.0f / 12);
  const V exh = MUL(half, ex), eyh = MUL(half, ey), ezh = MUL(half, ez);
  const V exy = MUL(MUL(ex, ey), twelfth), exz = MUL(MUL(ex, ez), twelfth), eyz = MUL(MUL(ey, ez), twelfth);
  /* 2 kb + 1: `k + kEnd - kb2` is twice the centre of a cell's samples counted from kb (exact: integers below 2^24) */
  const V kb2 = ADD(ADD(LOAD(s.kb), LOAD(s.kb)), wasm_f32x4_splat(1));
  const V zero = wasm_f32x4_splat(0);
  V f = zero, ax = zero, ay = zero, az = zero, bx = zero, by = zero, bz = zero;
  for (int step = 0; step <= most; step++) {
    /* the lanes on their last cell or past it */
    const V last = wasm_f32x4_ge(wasm_f32x4_splat((float)step), crossings);
    /* the cell, then the walk to the next one */
    const V cell = base, ux = px, uy = py, uz = pz;
    const V mxL = wasm_v128_and(wasm_f64x2_le(nxL, nyL), wasm_f64x2_le(nxL, nzL));
    const V mxH = wasm_v128_and(wasm_f64x2_le(nxH, nyH), wasm_f64x2_le(nxH, nzH));
    const V myL = wasm_v128_andnot(wasm_f64x2_le(nyL, nzL), mxL);
    const V myH = wasm_v128_andnot(wasm_f64x2_le(nyH, nzH), mxH);
    const V mzL = wasm_v128_not(wasm_v128_or(mxL, myL));
    const V mzH = wasm_v128_not(wasm_v128_or(mxH, myH));
    /* the next crossing's sample index, rounded up (exact in float32 below 2^24, and far beyond ke above) */
    const V knL = wasm_f64x2_ceil(wasm_f64x2_pmin(wasm_f64x2_pmin(nxL, nyL), nzL));
    const V knH = wasm_f64x2_ceil(wasm_f64x2_pmin(wasm_f64x2_pmin(nxH, nyH), nzH));
    const V kn = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(knL), wasm_f32x4_demote_f64x2_zero(knH), 0, 1, 4, 5);
    const V mx = wasm_i32x4_shuffle(mxL, mxH, 0, 2, 4, 6);
    const V my = wasm_i32x4_shuffle(myL, myH, 0, 2, 4, 6);
    const V mz = wasm_v128_not(wasm_v128_or(mx, my));
    nxL = wasm_f64x2_add(nxL, wasm_v128_and(mxL, ixL));
    nxH = wasm_f64x2_add(nxH, wasm_v128_and(mxH, ixH));
    nyL = wasm_f64x2_add(nyL, wasm_v128_and(myL, iyL));
    nyH = wasm_f64x2_add(nyH, wasm_v128_and(myH, iyH));
    nzL = wasm_f64x2_add(nzL, wasm_v128_and(mzL, izL));
    nzH = wasm_f64x2_add(nzH, wasm_v128_and(mzH, izH));
    px = SUB(px, wasm_v128_and(mx, signX));
    py = SUB(py, wasm_v128_and(my, signY));
    pz = SUB(pz, wasm_v128_and(mz, signZ));
    /* to the next cell while the ray has one (a lane past its end stays on its last cell) */
    base = wasm_i32x4_add(base, wasm_v128_andnot(wasm_v128_or(wasm_v128_or(wasm_v128_and(mx, stepX), wasm_v128_and(my, stepY)), wasm_v128_and(mz, stepZ)), last));
    /*
     * samples [k, kEnd) lie in this cell: up to the next crossing, all that are left on the last
     * cell, none past it (k is ke there); all-ones bits are a NaN, which pmin(ke, .) passes over
     */
    const V kEnd = wasm_f32x4_pmin(ke, wasm_v128_or(kn, last));
    const V m = SUB(kEnd, k);
    /* twice the centre of the cell's samples, counted from kb */
    const V q = SUB(ADD(k, kEnd), kb2);
    k = kEnd;
    V c[8];
    interior_corners(wasm_i32x4_extract_lane(cell, 0), wasm_i32x4_extract_lane(cell, 1), wasm_i32x4_extract_lane(cell, 2),
                     wasm_i32x4_extract_lane(cell, 3), c);
    const V c000 = c[0], c001 = c[1], c010 = c[2], c011 = c[3], c100 = c[4], c101 = c[5], c110 = c[6], c111 = c[7];
    /*
     * the closed form of trilinear_cell_sums.ts at the centre c of the cell's samples: m f(c) plus
     * t2 = m (m^2 - 1) / 12 times the mixed second derivatives along e (the 1/12 is in exy exz eyz)
     */
    const V cx = ADD(ux, MUL(q, exh)), cy = ADD(uy, MUL(q, eyh)), cz = ADD(uz, MUL(q, ezh));
    const V dz00 = SUB(c001, c000), dz01 = SUB(c011, c010), dz10 = SUB(c101, c100), dz11 = SUB(c111, c110);
    const V a00 = ADD(c000, MUL(cz, dz00)), a01 = ADD(c010, MUL(cz, dz01)), a10 = ADD(c100, MUL(cz, dz10)), a11 = ADD(c110, MUL(cz, dz11));
    const V ay0 = SUB(a01, a00), ay1 = SUB(a11, a10);
    const V b0v = ADD(a00, MUL(cy, ay0)), b1v = ADD(a10, MUL(cy, ay1));
    const V h0 = ADD(dz00, MUL(cy, SUB(dz01, dz00))), h1 = ADD(dz10, MUL(cy, SUB(dz11, dz10)));
    const V gy0 = SUB(dz01, dz00), fxyz = SUB(SUB(dz11, dz10), gy0);
    const V fxy = SUB(ay1, ay0), fxz = SUB(h1, h0), fyz = ADD(gy0, MUL(cx, fxyz));
    const V t2 = SUB(MUL(MUL(m, m), m), m);
    /* a cell without samples adds nothing, even where a corner is not finite (0 NaN is NaN) */
    const V some = wasm_f32x4_gt(m, zero);
    f = ADD(f, wasm_v128_and(some, ADD(MUL(m, ADD(b0v, MUL(cx, SUB(b1v, b0v)))), MUL(t2, ADD(ADD(MUL(fxy, exy), MUL(fxz, exz)), MUL(fyz, eyz))))));
    if (withGradient) {
      const V kmid = MUL(half, q);
      const V t3 = MUL(t2, fxyz);
      const V gx = wasm_v128_and(some, ADD(MUL(m, SUB(b1v, b0v)), MUL(t3, eyz)));
      const V gy = wasm_v128_and(some, ADD(MUL(m, ADD(ay0, MUL(cx, fxy))), MUL(t3, exz)));
      const V gz = wasm_v128_and(some, ADD(MUL(m, ADD(h0, MUL(cx, fxz))), MUL(t3, exy)));
      const V t2e = MUL(t2, twelfth);
      ax = ADD(ax, gx);
      ay = ADD(ay, gy);
      az = ADD(az, gz);
      bx = ADD(bx, ADD(MUL(kmid, gx), wasm_v128_and(some, MUL(t2e, ADD(MUL(fxy, ey), MUL(fxz, ez))))));
      by = ADD(by, ADD(MUL(kmid, gy), wasm_v128_and(some, MUL(t2e, ADD(MUL(fxy, ex), MUL(fyz, ez))))));
      bz = ADD(bz, ADD(MUL(kmid, gz), wasm_v128_and(some, MUL(t2e, ADD(MUL(fxz, ex), MUL(fyz, ey))))));
    }
  }
  const V sums[SUM_FIELDS] = {f, ax, ay, az, bx, by, bz};
  store_sums(sums, count, out);
}

/* Sums of four rays (`count` of them real) into out[0 .. SUM_FIELDS count) (see trilinear_simd.h). */
void cells_four_rays(const double *rays, int count, double *out, int withGradient) {
  if (withGradient) {
    four_rays(rays, count, out, 1);
  } else {
    four_rays(rays, count, out, 0);
  }
}
