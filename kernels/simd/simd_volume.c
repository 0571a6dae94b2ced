/* The volume the SIMD kernels read (see simd_volume.h). */
#include "simd_volume.h"

const float *density;
int sizeX, sizeY, sizeZ, strideX, strideY, lastVoxel;

/* The padding of the Trilinear kernels' copy of the volume (the JS side lays the copy out with it). */
__attribute__((export_name("trilinear_pad")))
int trilinear_pad(void) { return TRILINEAR_PAD; }

/* Sets the volume the next calls read: `copy` float32, [x, y, z] with `pad` voxels on each side (simd_volume.h). */
__attribute__((export_name("set_volume")))
void set_volume(const float *copy, int x, int y, int z, int pad) {
  sizeX = x;
  sizeY = y;
  sizeZ = z;
  strideY = z + 2 * pad;
  strideX = (y + 2 * pad) * strideY;
  density = copy + pad * (strideX + strideY + 1);
  lastVoxel = (x - 1) * strideX + (y - 1) * strideY + z - 1;
}
