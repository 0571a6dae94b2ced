/*
 * DiffDRR's global alpha range of a Trilinear call (lib/renderers/trilinear_range.ts), the
 * `(lo, hi)` of kernels/shared/trilinear_range_impl.ts, four rays at once. That file emulates the
 * tensor ops' float32 arithmetic in double with fround; here it is float32 itself (a float32 add,
 * sub or div is the correctly rounded result fround gives), and min / max are WebAssembly's, which
 * propagate NaN and order -0 below +0 as Math.min / Math.max do, in the same order:
 *
 *     d = (t_a - s_a) + 1e-8     alpha_f = (c_f - s_a) / d
 *     alphaMin = max(max(max(0, min(alpha_0, alpha_1)_x), ..._y), ..._z)    alphaMax likewise from 1
 *
 * so each ray's alphaMin and alphaMax are the JS loop's to the bit. The minimum over rays of alphaMin
 * and the maximum of alphaMax are the JS loop's too (NaN if any ray's is NaN), but for the sign of a
 * zero: alphaMin is never -0 (max(+0, -0) is +0), while the JS loop keeps the first of a -0 and a
 * +0 alphaMax where they tie for the maximum, so the caller redoes a call whose hi is 0 in JS.
 * For the gradient, each ray's bounds and the box face each depends on, with RayBounds.evaluate's
 * tie rules.
 */
#include "simd_volume.h"

/* DiffDRR's eps as the float32 it is added as (trilinear_range_impl.ts EPS). */
#define EPS 1e-8f

/* A face of the box: 2 a + f for face f (0: c0, 1: c1) of axis a (RayBounds' codes), or none. */
#define NO_FACE (-1)

/* `first ? a : second ? b : NO_FACE` per lane, int32 codes (tf.js's tie rules: NaN goes to no face). */
static inline V faces_of(V first, V a, V second, V b) {
  return SEL(first, a, SEL(second, b, wasm_i32x4_splat(NO_FACE)));
}

/* Four rays' alphaMin and alphaMax (float32), and with `withFaces` the face each depends on. */
typedef struct {
  V alphaMin, alphaMax, minFace, maxFace;
} Bounds;

/*
 * The bounds of four rays (sources s, targets t per axis), in RayBounds.evaluate's order: per axis
 * the entry and exit alphas and their faces, then max / min over the axes (x with y, then z), then
 * the clamps to [0, 1]. The values equal rangeOf's max(max(max(0, x), y), z) to the bit (max and
 * min are exact).
 */
static inline __attribute__((always_inline)) Bounds bounds_of(const V s[3], const V t[3], const float c0[3], const float c1[3], const int withFaces) {
  V entry[3], exit[3], entryFace[3], exitFace[3];
  for (int a = 0; a < 3; a++) {
    const V d = wasm_f32x4_add(wasm_f32x4_sub(t[a], s[a]), wasm_f32x4_splat(EPS));
    const V a0 = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_splat(c0[a]), s[a]), d);
    const V a1 = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_splat(c1[a]), s[a]), d);
    entry[a] = wasm_f32x4_min(a0, a1);
    exit[a] = wasm_f32x4_max(a0, a1);
    if (withFaces) {
      const V lower = wasm_i32x4_splat(2 * a), upper = wasm_i32x4_splat(2 * a + 1);
      entryFace[a] = faces_of(wasm_f32x4_le(a0, a1), lower, wasm_f32x4_gt(a0, a1), upper);
      exitFace[a] = faces_of(wasm_f32x4_ge(a0, a1), lower, wasm_f32x4_lt(a0, a1), upper);
    }
  }
  Bounds b;
  const V xy = wasm_f32x4_max(entry[0], entry[1]), enter = wasm_f32x4_max(xy, entry[2]);
  const V xyExit = wasm_f32x4_min(exit[0], exit[1]), leave = wasm_f32x4_min(xyExit, exit[2]);
  b.alphaMin = wasm_f32x4_max(enter, wasm_f32x4_splat(0));
  b.alphaMax = wasm_f32x4_min(leave, wasm_f32x4_splat(1));
  if (withFaces) {
    const V xyFace = faces_of(wasm_f32x4_ge(entry[0], entry[1]), entryFace[0], wasm_f32x4_lt(entry[0], entry[1]), entryFace[1]);
    const V enterFace = faces_of(wasm_f32x4_ge(xy, entry[2]), xyFace, wasm_f32x4_lt(xy, entry[2]), entryFace[2]);
    b.minFace = SEL(wasm_f32x4_ge(enter, wasm_f32x4_splat(0)), enterFace, wasm_i32x4_splat(NO_FACE));
    const V xyExitFace = faces_of(wasm_f32x4_le(exit[0], exit[1]), exitFace[0], wasm_f32x4_gt(exit[0], exit[1]), exitFace[1]);
    const V leaveFace = faces_of(wasm_f32x4_le(xyExit, exit[2]), xyExitFace, wasm_f32x4_gt(xyExit, exit[2]), exitFace[2]);
    b.maxFace = SEL(wasm_f32x4_le(leave, wasm_f32x4_splat(1)), leaveFace, wasm_i32x4_splat(NO_FACE));
  } else {
    b.minFace = b.maxFace = wasm_i32x4_splat(NO_FACE);
  }
  return b;
}

/*
 * Rays [0, n) (n > 0): ray r from source[3 s] (s = floor((first + r) / raysPerSource) - sourceFirst)
 * to target[3 r], index coordinates (float32 values held as doubles), the box's faces `c0 = -v`
 * and `c1 = N + 1 - v` per axis (float32). Writes the minimum of the rays' alphaMin to out[0] and
 * the maximum of their alphaMax to out[1], float32 values (NaN where a ray's is NaN); with
 * `withFaces`, also each ray's alphaMin and alphaMax to bounds[r], bounds[stride + r] and the faces
 * they depend on (RayBounds.minFace, maxFace) to faces[r], faces[stride + r].
 */
static inline __attribute__((always_inline)) void range_of(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource,
                                                           const float c0[3], const float c1[3], double *out, float *bounds, signed char *faces, int stride,
                                                           const int withFaces) {
  V lo = wasm_f32x4_splat(__builtin_inff()), hi = wasm_f32x4_splat(-__builtin_inff());
  /* the source row of ray r, and how many rays are left in it */
  int row = first / raysPerSource - sourceFirst, left = raysPerSource - first % raysPerSource;
  for (int r = 0; r < n; r += 4) {
    float sl[3][4], tl[3][4];
    for (int l = 0; l < 4; l++) {
      /* a lane past the last ray repeats it: the same bounds change neither extreme */
      const int ray = r + l < n ? r + l : n - 1;
      if (r + l < n) {
        if (left == 0) {
          row++;
          left = raysPerSource;
        }
        left--;
      }
      for (int a = 0; a < 3; a++) {
        sl[a][l] = (float)source[3 * row + a];
        tl[a][l] = (float)target[3 * ray + a];
      }
    }
    const V s[3] = {wasm_v128_load(sl[0]), wasm_v128_load(sl[1]), wasm_v128_load(sl[2])};
    const V t[3] = {wasm_v128_load(tl[0]), wasm_v128_load(tl[1]), wasm_v128_load(tl[2])};
    const Bounds b = bounds_of(s, t, c0, c1, withFaces);
    lo = wasm_f32x4_min(lo, b.alphaMin);
    hi = wasm_f32x4_max(hi, b.alphaMax);
    if (withFaces) {
      float alphaMin[4], alphaMax[4];
      int minFace[4], maxFace[4];
      wasm_v128_store(alphaMin, b.alphaMin);
      wasm_v128_store(alphaMax, b.alphaMax);
      wasm_v128_store(minFace, b.minFace);
      wasm_v128_store(maxFace, b.maxFace);
      for (int l = 0; l < 4 && r + l < n; l++) {
        bounds[r + l] = alphaMin[l];
        bounds[stride + r + l] = alphaMax[l];
        faces[r + l] = (signed char)minFace[l];
        faces[stride + r + l] = (signed char)maxFace[l];
      }
    }
  }
  lo = wasm_f32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 2, 3, 0, 1));
  hi = wasm_f32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 2, 3, 0, 1));
  out[0] = wasm_f32x4_extract_lane(wasm_f32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 1, 0, 3, 2)), 0);
  out[1] = wasm_f32x4_extract_lane(wasm_f32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 1, 0, 3, 2)), 0);
}

/* range_of without the rays' bounds (the forward). */
__attribute__((export_name("trilinear_range")))
void trilinear_range(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource,
                     float c0x, float c0y, float c0z, float c1x, float c1y, float c1z, double *out) {
  const float c0[3] = {c0x, c0y, c0z}, c1[3] = {c1x, c1y, c1z};
  range_of(source, sourceFirst, target, first, n, raysPerSource, c0, c1, out, 0, 0, 0, 0);
}

/* range_of with the rays' bounds and faces (the gradient). */
__attribute__((export_name("trilinear_range_bounds")))
void trilinear_range_bounds(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource,
                            float c0x, float c0y, float c0z, float c1x, float c1y, float c1z, double *out, float *bounds,
                            signed char *faces, int stride) {
  const float c0[3] = {c0x, c0y, c0z}, c1[3] = {c1x, c1y, c1z};
  range_of(source, sourceFirst, target, first, n, raysPerSource, c0, c1, out, bounds, faces, stride, 1);
}
