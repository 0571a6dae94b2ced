/*
 * The Trilinear forward's rays, from their endpoints to their sums: each ray is set up as
 * `TrilinearSampler.start` sets it up (the same float64 arithmetic in the same order, so the same
 * sample range to the bit), queued by kind (dense: the cell walk, trilinear_cells.c; sparse:
 * samples one by one, trilinear_samples.c) and summed four at a time. Rays the JS kernels must
 * take (not finite) are marked for them.
 */
#include "trilinear_simd.h"

/* The largest |ex| + |ey| + |ez| of a dense ray (trilinear_cell_sums.ts CELL_WALK_MAX_STEP). */
#define CELL_WALK_MAX_STEP 0.7

/* TrilinearSampler's fields for one ray. */
typedef struct {
  double o[3], e[3];
  double kBegin, kEnd, kInteriorBegin, kInteriorEnd;
} Ray;

/* TrilinearSampler.clip: narrows [kBegin, kEnd) to the samples with `o + k e` in [-1, n) (widened by one sample). */
static int clip(Ray *r, double o, double e, double n) {
  if (e == 0) {
    if (!(o >= -1 && o < n)) r->kEnd = 0;
  } else {
    const double a = (-1 - o) / e, b = (n - o) / e;
    const double first = __builtin_ceil(a < b ? a : b) - 1, last = __builtin_floor(a < b ? b : a) + 1;
    if (first > r->kBegin) r->kBegin = first;
    if (last + 1 < r->kEnd) r->kEnd = last + 1;
  }
  return r->kBegin < r->kEnd;
}

/* TrilinearSampler.clipInterior: narrows [kInteriorBegin, kInteriorEnd) to `o + k e` in [0, n - 1), one sample in. */
static void clip_interior(Ray *r, double o, double e, double n) {
  if (!(finite(o) && finite(e))) {
    r->kInteriorEnd = r->kInteriorBegin;
  } else if (e == 0) {
    if (!(o >= 0 && o < n - 1)) r->kInteriorEnd = r->kInteriorBegin;
  } else {
    const double a = -o / e, b = (n - 1 - o) / e;
    const double first = __builtin_ceil(a < b ? a : b) + 1, last = __builtin_floor(a < b ? b : a) - 1;
    if (first > r->kInteriorBegin) r->kInteriorBegin = first;
    if (last + 1 < r->kInteriorEnd) r->kInteriorEnd = last + 1;
  }
}

/* TrilinearSampler.touches and touchingSamples: how many of [kBegin, kEnd) have `o + k e` in [-1, n). */
static int touches(const Ray *r, double k) {
  const double n[3] = {sizeX, sizeY, sizeZ};
  for (int a = 0; a < 3; a++) {
    const double q = r->o[a] + k * r->e[a];
    if (!(q >= -1 && q < n[a])) return 0;
  }
  return 1;
}

static double touching_samples(const Ray *r) {
  double first = r->kBegin, end = r->kEnd;
  while (first < end && !touches(r, first)) first++;
  while (end > first && !touches(r, end - 1)) end--;
  return end - first;
}

/* Rays waiting for a group of four, per kind (0: cells, 1: samples). */
typedef struct {
  double rays[4 * RAY_FIELDS];
  int index[4];
  int count;
} Queue;

/*
 * Sums the queued rays into sums[SUM_FIELDS index] (B as sum_k u_k grad f, u_k = k / (nPoints - 1);
 * A and B stay 0 without the gradient).
 */
static void flush(Queue *q, int kind, double *sums, int withGradient, double invN1) {
  if (q->count == 0) return;
  double out[4 * SUM_FIELDS];
  (kind == 0 ? cells_four_rays : samples_four_rays)(q->rays, q->count, out, withGradient);
  for (int l = 0; l < q->count; l++) {
    double *s = sums + SUM_FIELDS * q->index[l];
    const double *o = out + SUM_FIELDS * l;
    const double kb = q->rays[RAY_FIELDS * l + 6];
    s[0] = o[0];
    for (int a = 0; a < 3; a++) {
      s[1 + a] = o[1 + a];
      s[4 + a] = invN1 * (o[4 + a] + kb * o[1 + a]);
    }
  }
  q->count = 0;
}

/*
 * Rays [0, n): ray r from source[3 s] (s = floor((first + r) / raysPerSource) - sourceFirst) to
 * target[3 r], index coordinates. Writes each ray's sums (F, A, B, RaySum layout; A and B with
 * `withGradient`) to sums[SUM_FIELDS r] and its status (RAY_SUMMED, or RAY_FOR_JS) to status[r].
 * Sampling: `q_k = s + shift + alpha_k (t - s)`, alpha_k = lo + step k, k < nPoints.
 * Returns, with `countSamples`, the number of samples that touch the volume
 * (TrilinearSampler.integrate's count), else 0.
 */
__attribute__((export_name("trilinear_rays_sum")))
double trilinear_rays_sum(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource,
                          double shift, double lo, double step, int nPoints, double *sums, unsigned char *status, int withGradient,
                          int countSamples) {
  const double size[3] = {sizeX, sizeY, sizeZ};
  const double invN1 = 1 / (double)(nPoints - 1);
  Queue queues[2];
  queues[0].count = queues[1].count = 0;
  double samples = 0;
  for (int r = 0; r < n; r++) {
    const double *s = source + 3 * ((first + r) / raysPerSource - sourceFirst);
    const double *t = target + 3 * r;
    double *out = sums + SUM_FIELDS * r;
    for (int a = 0; a < SUM_FIELDS; a++) out[a] = 0;
    status[r] = RAY_SUMMED;
    Ray ray;
    for (int a = 0; a < 3; a++) {
      const double d = t[a] - s[a];
      ray.o[a] = s[a] + shift + lo * d;
      ray.e[a] = step * d;
    }
    ray.kBegin = 0;
    ray.kEnd = nPoints;
    if (!(clip(&ray, ray.o[0], ray.e[0], size[0]) && clip(&ray, ray.o[1], ray.e[1], size[1]) && clip(&ray, ray.o[2], ray.e[2], size[2]))) continue;
    if (!finite(ray.o[0] + ray.o[1] + ray.o[2] + ray.e[0] + ray.e[1] + ray.e[2])) {
      status[r] = RAY_FOR_JS;
      continue;
    }
    const double cellsPerSample = __builtin_fabs(ray.e[0]) + __builtin_fabs(ray.e[1]) + __builtin_fabs(ray.e[2]);
    const int kind = cellsPerSample <= CELL_WALK_MAX_STEP ? 0 : 1;
    /* the interior samples, for the samples one by one (the cell walk needs none: trilinear_cells.c) */
    ray.kInteriorBegin = ray.kBegin;
    ray.kInteriorEnd = ray.kEnd;
    if (kind == 1) {
      for (int a = 0; a < 3; a++) clip_interior(&ray, ray.o[a], ray.e[a], size[a]);
      if (!(ray.kInteriorBegin < ray.kInteriorEnd)) ray.kInteriorBegin = ray.kInteriorEnd = ray.kEnd;
    }
    if (countSamples) samples += touching_samples(&ray);
    Queue *q = &queues[kind];
    double *slot = q->rays + RAY_FIELDS * q->count;
    for (int a = 0; a < 3; a++) {
      slot[a] = ray.o[a];
      slot[3 + a] = ray.e[a];
    }
    slot[6] = ray.kBegin;
    slot[7] = ray.kEnd;
    slot[8] = ray.kInteriorBegin;
    slot[9] = ray.kInteriorEnd;
    q->index[q->count++] = r;
    if (q->count == 4) flush(q, kind, sums, withGradient, invN1);
  }
  flush(&queues[0], 0, sums, withGradient, invN1);
  flush(&queues[1], 1, sums, withGradient, invN1);
  return samples;
}
