/*
 * The Siddon forward's rays, from their endpoints to their sums (one channel, 'sum'): each lane
 * of four starts a ray as SiddonWalker.start does, takes its fast steps with the other lanes
 * (siddon_steps.c), finishes it alone as SiddonWalker.resume and advance do, writes its sums and
 * takes the next ray. Rays the JS kernels must take (not finite) are marked for them.
 */
#include "siddon_simd.h"

#define NO_RAY (-1)

/* The call's parameters (SiddonAttrs). */
static double voxelShift, alphaMin, alphaMax;

static double clamp_index(double i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* SiddonWalker.endSegment. */
static void end_segment(Walker *w) {
  double next;
  int axis;
  if (w->ax <= w->ay && w->ax <= w->az) {
    next = w->ax;
    axis = 0;
  } else if (w->ay <= w->az) {
    next = w->ay;
    axis = 1;
  } else {
    next = w->az;
    axis = 2;
  }
  if (next >= w->amax) {
    w->alpha1 = w->amax;
    w->crossAxis = -1;
  } else {
    w->alpha1 = next > w->alpha0 ? next : w->alpha0;
    w->crossAxis = axis;
  }
}

/* One axis of SiddonWalker.start's slab clip; false where the ray runs outside the slab. */
static int clip_axis(Walker *w, double u, double d, int n, int axis) {
  if (d != 0) {
    const double a0 = -u / d, a1 = (n - u) / d;
    const double lo = a0 < a1 ? a0 : a1, hi = a0 < a1 ? a1 : a0;
    if (lo > w->amin) {
      w->amin = lo;
      w->entryAxis = axis;
    }
    if (hi < w->amax) {
      w->amax = hi;
      w->exitAxis = axis;
    }
    return 1;
  }
  return u >= 0 && u < n;
}

/* The first face alpha ahead on one axis (SiddonWalker.start). */
static double first_face(int i, double u, double d) { return d > 0 ? (i + 1 - u) / d : d < 0 ? (i - u) / d : __builtin_inf(); }

/* SiddonWalker.start: the ray from s to t (index coordinates) at its first segment; false if it misses the volume. */
static int start(Walker *w, const double *s, const double *t) {
  const double ux = s[0] + voxelShift, uy = s[1] + voxelShift, uz = s[2] + voxelShift;
  const double dx = t[0] - s[0], dy = t[1] - s[1], dz = t[2] - s[2];
  w->dx = dx;
  w->dy = dy;
  w->dz = dz;
  w->amin = alphaMin;
  w->amax = alphaMax;
  w->entryAxis = w->exitAxis = -1;
  if (!(clip_axis(w, ux, dx, sizeX, 0) && clip_axis(w, uy, dy, sizeY, 1) && clip_axis(w, uz, dz, sizeZ, 2))) return 0;
  if (!(w->amin < w->amax) || w->amin == -__builtin_inf() || w->amax == __builtin_inf()) return 0;
  const double ix = clamp_index(__builtin_floor(ux + w->amin * dx), sizeX);
  const double iy = clamp_index(__builtin_floor(uy + w->amin * dy), sizeY);
  const double iz = clamp_index(__builtin_floor(uz + w->amin * dz), sizeZ);
  w->ix = (int)ix;
  w->iy = (int)iy;
  w->iz = (int)iz;
  w->voxel = w->ix * strideX + w->iy * strideY + w->iz;
  w->stepX = dx > 0 ? 1 : -1;
  w->stepY = dy > 0 ? 1 : -1;
  w->stepZ = dz > 0 ? 1 : -1;
  w->flatX = w->stepX * strideX;
  w->flatY = w->stepY * strideY;
  w->flatZ = w->stepZ;
  w->ax = first_face(w->ix, ux, dx);
  w->ay = first_face(w->iy, uy, dy);
  w->az = first_face(w->iz, uz, dz);
  w->dax = dx != 0 ? __builtin_fabs(1 / dx) : 0;
  w->day = dy != 0 ? __builtin_fabs(1 / dy) : 0;
  w->daz = dz != 0 ? __builtin_fabs(1 / dz) : 0;
  const double ex = clamp_index(__builtin_floor(ux + w->amax * dx), sizeX);
  const double ey = clamp_index(__builtin_floor(uy + w->amax * dy), sizeY);
  const double ez = clamp_index(__builtin_floor(uz + w->amax * dz), sizeZ);
  const double crossings = __builtin_fabs(ex - ix) + __builtin_fabs(ey - iy) + __builtin_fabs(ez - iz);
  w->remaining = crossings > 3 ? (int)(crossings - 3) : 0;
  w->segments = w->remaining;
  w->alpha0 = w->amin;
  w->sum = 0;
  w->first = w->w = density[w->voxel];
  for (int a = 0; a < 6; a++) w->jumps[a] = 0;
  return 1;
}

/* SiddonWalker.resume: the walk goes on from the state the fast steps left. */
static void resume(Walker *w) {
  w->ix = w->voxel / strideX;
  w->iy = (w->voxel - w->ix * strideX) / strideY;
  w->iz = w->voxel - w->ix * strideX - w->iy * strideY;
  end_segment(w);
}

/* SiddonWalker.advance. */
static int advance(Walker *w) {
  const int axis = w->crossAxis;
  if (axis < 0) return 0;
  w->alpha0 = w->alpha1;
  if (axis == 0) {
    w->ix += w->stepX;
    if (w->ix < 0 || w->ix >= sizeX) return 0;
    w->voxel += w->flatX;
    w->ax += w->dax;
  } else if (axis == 1) {
    w->iy += w->stepY;
    if (w->iy < 0 || w->iy >= sizeY) return 0;
    w->voxel += w->flatY;
    w->ay += w->day;
  } else {
    w->iz += w->stepZ;
    if (w->iz < 0 || w->iz >= sizeZ) return 0;
    w->voxel += w->flatZ;
    w->az += w->daz;
  }
  end_segment(w);
  return 1;
}

/* sumAlongRay's last steps, after the fast ones: the ray's sum to out[0]. */
static void finish_sum(Walker *w, double *out) {
  resume(w);
  do {
    w->sum += density[w->voxel] * (w->alpha1 - w->alpha0);
    w->segments++;
  } while (advance(w));
  out[0] = w->sum;
}

/* faceJumpsAlongRay's last steps and its entry and exit faces; the sum and the gradient row (siddonForwardImpl) to out. */
static void finish_jumps(Walker *w, double *out) {
  double *jumps = w->jumps;
  resume(w);
  for (;;) {
    w->sum += w->w * (w->alpha1 - w->alpha0);
    const int axis = w->crossAxis;
    const double alpha = w->alpha1;
    if (!advance(w)) break;
    const double next = density[w->voxel];
    jumps[axis] += w->w - next;
    jumps[3 + axis] += (w->w - next) * alpha;
    w->w = next;
  }
  if (w->entryAxis >= 0) {
    jumps[w->entryAxis] -= w->first;
    jumps[3 + w->entryAxis] -= w->first * w->amin;
  }
  if (w->exitAxis >= 0) {
    jumps[w->exitAxis] += w->w;
    jumps[3 + w->exitAxis] += w->w * w->amax;
  }
  out[0] = w->sum;
  const double d[3] = {w->dx, w->dy, w->dz};
  for (int a = 0; a < 3; a++) {
    const double toSource = jumps[3 + a] - jumps[a], toTarget = -jumps[3 + a];
    out[1 + a] = toSource == 0 ? 0 : toSource / d[a];
    out[4 + a] = toTarget == 0 ? 0 : toTarget / d[a];
  }
}

/* A lane with no ray: it steps in place on voxel 0, adding nothing. */
static void idle(Walker *w) {
  w->ray = NO_RAY;
  w->remaining = 0x7fffffff;
  w->ax = w->ay = w->az = w->dax = w->day = w->daz = 0;
  w->alpha0 = w->sum = w->w = 0;
  for (int a = 0; a < 6; a++) w->jumps[a] = 0;
  w->voxel = w->flatX = w->flatY = w->flatZ = 0;
}

/* The call's arrays and where its next ray is. */
typedef struct {
  const double *source, *target;
  int sourceFirst, first, n, raysPerSource, next, withJumps;
  double *sums;
  unsigned char *status;
  double segments;
} Call;

static void finish(Call *c, Walker *w) {
  double *out = c->sums + SUM_FIELDS * w->ray;
  if (c->withJumps) {
    finish_jumps(w, out);
  } else {
    finish_sum(w, out);
    c->segments += w->segments;
  }
}

/* Starts the call's next ray that needs steps in lane `w` (rays that miss, are not finite or need no fast steps are done here), or idles it. */
static void take_next(Call *c, Walker *w) {
  while (c->next < c->n) {
    const int r = c->next++;
    const double *s = c->source + 3 * ((c->first + r) / c->raysPerSource - c->sourceFirst);
    const double *t = c->target + 3 * r;
    double *out = c->sums + SUM_FIELDS * r;
    for (int a = 0; a < SUM_FIELDS; a++) out[a] = 0;
    c->status[r] = RAY_SUMMED;
    if (!finite(s[0] + s[1] + s[2] + t[0] + t[1] + t[2])) {
      c->status[r] = RAY_FOR_JS;
      continue;
    }
    if (!start(w, s, t)) continue;
    w->ray = r;
    if (w->remaining > 0) return;
    finish(c, w);
  }
  idle(w);
}

/*
 * Rays [0, n): ray r from source[3 s] (s = floor((first + r) / raysPerSource) - sourceFirst) to
 * target[3 r], index coordinates, integrated over [alphaMin, alphaMax] with voxel (i, j, k) the box
 * [i, i + 1) x ... in coordinates shifted by `shift` (siddon_walker.ts). Writes each ray's sum to
 * sums[SUM_FIELDS r], with `withJumps` followed by its gradient row (siddonForwardImpl's
 * `rayGradients`), and its status (RAY_SUMMED, or RAY_FOR_JS) to status[r].
 * Returns the number of segments visited (without the jumps; siddonForwardImpl's count).
 */
__attribute__((export_name("siddon_rays_sum")))
double siddon_rays_sum(const double *source, int sourceFirst, const double *target, int first, int n, int raysPerSource, double shift,
                       double lo, double hi, double *sums, unsigned char *status, int withJumps) {
  voxelShift = shift;
  alphaMin = lo;
  alphaMax = hi;
  Call c = {source, target, sourceFirst, first, n, raysPerSource, 0, withJumps, sums, status, 0};
  Walker lanes[4];
  for (int l = 0; l < 4; l++) take_next(&c, lanes + l);
  for (;;) {
    int m = 0x7fffffff;
    for (int l = 0; l < 4; l++) {
      if (lanes[l].ray != NO_RAY && lanes[l].remaining < m) m = lanes[l].remaining;
    }
    if (m == 0x7fffffff) break;
    (withJumps ? jump_steps : sum_steps)(lanes, m);
    for (int l = 0; l < 4; l++) {
      Walker *w = lanes + l;
      if (w->ray == NO_RAY) continue;
      w->remaining -= m;
      if (w->remaining == 0) {
        finish(&c, w);
        take_next(&c, w);
      }
    }
  }
  return c.segments;
}
