/* The volume the SIMD kernels read (see simd_volume.h). */
#include "simd_volume.h"

const float *density;
int sizeX, sizeY, sizeZ, strideX, strideY, lastVoxel;

/* Sets the volume: `d` float32, C order [x, y, z]. */
__attribute__((export_name("set_volume")))
void set_volume(const float *d, int x, int y, int z) {
  density = d;
  sizeX = x;
  sizeY = y;
  sizeZ = z;
  strideX = y * z;
  strideY = z;
  lastVoxel = x * y * z - 1;
}
