/* The volume the SIMD Trilinear kernels read (see trilinear_simd.h). */
#include "trilinear_simd.h"

const float *density;
int sizeX, sizeY, sizeZ, strideX, strideY;

/* Sets the volume: `d` float32, C order [x, y, z]. */
__attribute__((export_name("trilinear_volume")))
void trilinear_volume(const float *d, int x, int y, int z) {
  density = d;
  sizeX = x;
  sizeY = y;
  sizeZ = z;
  strideX = y * z;
  strideY = z;
}
