/** Entry point of the `parley` admin CLI (see bin/parley-cli.mjs and bin/cli/). */
import { runCli } from './cli/commands.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});
