/*
 * The fast steps of four Siddon walkers at once (siddon_sum_loops.ts's loops, without a branch):
 * lanes 0-1 and 2-3 as two float64x2 pairs, stepped together so that one pair's work fills the
 * other's latency. Each step takes, per lane, the axis whose next face comes first (ties: x, then
 * y, as the JS loops' `ax <= ay && ax <= az`, then `ay <= az`), the face's alpha as the segment's
 * end, and moves that axis' face and the voxel on. The lanes' results do not depend on each
 * other: a walker gets the same sums in any lane.
 */
#include "siddon_simd.h"

/* A pair of lanes in vectors; voxel and flat steps as int32x4 [l0, l0, l1, l1], so that float64 masks select them. */
typedef struct {
  V ax, ay, az, dax, day, daz, a0, sum, voxel, fx, fy, fz;
  V w, jx, jy, jz, mx, my, mz;
} Pair;

#define F64(field) wasm_f64x2_make(l[0].field, l[1].field)
#define I32(field) wasm_i32x4_make(l[0].field, l[0].field, l[1].field, l[1].field)

static inline void load_pair(Pair *p, const Walker *l, int jumps) {
  p->ax = F64(ax);
  p->ay = F64(ay);
  p->az = F64(az);
  p->dax = F64(dax);
  p->day = F64(day);
  p->daz = F64(daz);
  p->a0 = F64(alpha0);
  p->sum = F64(sum);
  p->voxel = I32(voxel);
  p->fx = I32(flatX);
  p->fy = I32(flatY);
  p->fz = I32(flatZ);
  if (jumps) {
    p->w = F64(w);
    p->jx = F64(jumps[0]);
    p->jy = F64(jumps[1]);
    p->jz = F64(jumps[2]);
    p->mx = F64(jumps[3]);
    p->my = F64(jumps[4]);
    p->mz = F64(jumps[5]);
  }
}

#define STORE(field, v)                     \
  do {                                      \
    l[0].field = wasm_f64x2_extract_lane(v, 0); \
    l[1].field = wasm_f64x2_extract_lane(v, 1); \
  } while (0)

static inline void store_pair(const Pair *p, Walker *l, int jumps) {
  STORE(ax, p->ax);
  STORE(ay, p->ay);
  STORE(az, p->az);
  STORE(alpha0, p->a0);
  STORE(sum, p->sum);
  l[0].voxel = wasm_i32x4_extract_lane(p->voxel, 0);
  l[1].voxel = wasm_i32x4_extract_lane(p->voxel, 2);
  if (jumps) {
    STORE(w, p->w);
    STORE(jumps[0], p->jx);
    STORE(jumps[1], p->jy);
    STORE(jumps[2], p->jz);
    STORE(jumps[3], p->mx);
    STORE(jumps[4], p->my);
    STORE(jumps[5], p->mz);
  }
}

/*
 * The densities of the pair's voxels (kept inside the volume: the walker's fast steps stay in it,
 * and a voxel index must never leave the module's memory whatever the rays).
 */
static inline V densities(V voxel) {
  const V at = wasm_u32x4_min(voxel, wasm_i32x4_splat(lastVoxel));
  const V two = wasm_v128_load32_lane(density + wasm_i32x4_extract_lane(at, 2), wasm_v128_load32_zero(density + wasm_i32x4_extract_lane(at, 0)), 1);
  return wasm_f64x2_promote_low_f32x4(two);
}

/*
 * One step's choice: the segment's end `a1`, the nearest face (ties to the first of x, y, z,
 * as the JS loops' `ax <= ay && ax <= az`, then `ay <= az`: pmin keeps its first operand on a
 * tie); masks `x`, `y`, `z` of the axis whose face it is; the faces moved on (a masked add of
 * +0 leaves a face as it is, up to the sign of a zero, which no sum sees); the voxel moved on.
 */
static inline V advance_faces(Pair *p, V *x, V *y, V *z) {
  const V yz = wasm_f64x2_le(p->ay, p->az);
  *x = wasm_v128_and(wasm_f64x2_le(p->ax, p->ay), wasm_f64x2_le(p->ax, p->az));
  *y = wasm_v128_andnot(yz, *x);
  *z = wasm_v128_not(wasm_v128_or(*x, yz));
  const V a1 = wasm_f64x2_pmin(wasm_f64x2_pmin(p->ax, p->ay), p->az);
  p->ax = wasm_f64x2_add(p->ax, wasm_v128_and(*x, p->dax));
  p->ay = wasm_f64x2_add(p->ay, wasm_v128_and(*y, p->day));
  p->az = wasm_f64x2_add(p->az, wasm_v128_and(*z, p->daz));
  return a1;
}

/* The voxel's flat step for the axis crossed. */
static inline V flat_step(const Pair *p, V x, V y, V z) {
  return wasm_v128_or(wasm_v128_or(wasm_v128_and(x, p->fx), wasm_v128_and(y, p->fy)), wasm_v128_and(z, p->fz));
}

/* sumAlongRay's step: sum += density[voxel] (a1 - a0). */
static inline void sum_step(Pair *p) {
  V x, y, z;
  const V a1 = advance_faces(p, &x, &y, &z);
  p->sum = wasm_f64x2_add(p->sum, wasm_f64x2_mul(densities(p->voxel), wasm_f64x2_sub(a1, p->a0)));
  p->a0 = a1;
  p->voxel = wasm_i32x4_add(p->voxel, flat_step(p, x, y, z));
}

/* faceJumpsAlongRay's step: the sum, and the jump w - next at the face crossed, alone and times its alpha. */
static inline void jump_step(Pair *p) {
  V x, y, z;
  const V a1 = advance_faces(p, &x, &y, &z);
  p->sum = wasm_f64x2_add(p->sum, wasm_f64x2_mul(p->w, wasm_f64x2_sub(a1, p->a0)));
  p->a0 = a1;
  p->voxel = wasm_i32x4_add(p->voxel, flat_step(p, x, y, z));
  const V next = densities(p->voxel);
  const V jump = wasm_f64x2_sub(p->w, next);
  const V moment = wasm_f64x2_mul(jump, a1);
  p->jx = wasm_f64x2_add(p->jx, wasm_v128_and(x, jump));
  p->jy = wasm_f64x2_add(p->jy, wasm_v128_and(y, jump));
  p->jz = wasm_f64x2_add(p->jz, wasm_v128_and(z, jump));
  p->mx = wasm_f64x2_add(p->mx, wasm_v128_and(x, moment));
  p->my = wasm_f64x2_add(p->my, wasm_v128_and(y, moment));
  p->mz = wasm_f64x2_add(p->mz, wasm_v128_and(z, moment));
  p->w = next;
}

/* `m` steps of both pairs, one kind of step (inlined once per kind: `jumps` is a constant there). */
static inline __attribute__((always_inline)) void steps(Walker *lanes, int m, const int jumps) {
  Pair lo, hi;
  load_pair(&lo, lanes, jumps);
  load_pair(&hi, lanes + 2, jumps);
  for (int s = 0; s < m; s++) {
    if (jumps) {
      jump_step(&lo);
      jump_step(&hi);
    } else {
      sum_step(&lo);
      sum_step(&hi);
    }
  }
  store_pair(&lo, lanes, jumps);
  store_pair(&hi, lanes + 2, jumps);
}

void sum_steps(Walker *lanes, int m) { steps(lanes, m, 0); }

void jump_steps(Walker *lanes, int m) { steps(lanes, m, 1); }
