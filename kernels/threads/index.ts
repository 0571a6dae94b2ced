/** The kernels' threading controls, as exported by tfdrr. */
export { getNumThreads, setNumThreads } from './num_threads.js';
export { disposeThreadPool } from './ray_kernel_call.js';
