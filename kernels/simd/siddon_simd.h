/*
 * What the WebAssembly SIMD Siddon kernels share (siddon_rays.c: rays from their endpoints to
 * their sums, one walker per lane; siddon_steps.c: the steps four lanes take at once), linked into
 * the module with the volume (simd_volume.h) by scripts/build_wasm.mjs and run by simd_kernels.ts.
 *
 * The walk is kernels/shared/siddon_walker.ts's and siddon_sum_loops.ts's, in float64 with the
 * same operations in the same order: the same voxels, alphas and sums to the bit as the JS
 * kernels. Each of four lanes walks its own ray; the lanes take their `fastSteps` (the steps the
 * JS loops take with no end or bounds check) together, two float64x2 vectors of two lanes each,
 * choosing each lane's axis by masks instead of branches (the JS loops' branch on the axis is
 * mispredicted about once per step on an oblique ray). A lane whose fast steps are done finishes
 * its ray alone, as the JS walker does (`resume`, `advance`), and takes the next ray.
 */
#ifndef SIDDON_SIMD_H
#define SIDDON_SIMD_H

#include "simd_volume.h"

/* One lane's ray: SiddonWalker's state and the ray's running sums. */
typedef struct {
  /* the ray's index in the call, or -1 (an idle lane: it steps in place on voxel 0) */
  int ray;
  /* fast steps left */
  int remaining;
  double dx, dy, dz;
  double amin, amax;
  int entryAxis, exitAxis;
  /* the current segment: voxel, alpha0 (its start), alpha1 and crossAxis (after end_segment) */
  int voxel, ix, iy, iz;
  double alpha0, alpha1;
  int crossAxis;
  /* next face alpha per axis, alpha between faces, index step (+-1) and flat step per axis */
  double ax, ay, az, dax, day, daz;
  int stepX, stepY, stepZ;
  int flatX, flatY, flatZ;
  /* the sum; with the face jumps: the density of the current voxel and the jump sums (x y z, then times alpha) */
  double sum, w, first;
  double jumps[6];
  /* segments visited */
  double segments;
} Walker;

/* `m` fast steps of four lanes (siddon_steps.c): the plain sum, or the sum with the face jumps. */
void sum_steps(Walker *lanes, int m);
void jump_steps(Walker *lanes, int m);

#endif
