// Runs as the root `postinstall`: make sure the Temporal CLI exists before anyone needs it,
// and build the web console the API serves.
import { ensureTemporalCli } from './temporal-cli.js';
import { ensureConsoleBuilt } from './console-build.js';

try {
  const cli = await ensureTemporalCli();
  console.log(`flywheel: Temporal CLI at ${cli}`);
} catch (error) {
  console.error(`\nflywheel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// The console is not needed by the API, the workers or the CLI: a failed build is reported and
// retried by `npm start`, but does not fail the install.
try {
  const { built, ms } = await ensureConsoleBuilt();
  console.log(`flywheel: web console ${built ? `built in ${ms} ms` : 'is current'} (console/dist)`);
} catch (error) {
  console.error(
    `flywheel: could not build the web console: ${error instanceof Error ? error.message : String(error)}; run npm run console:build to retry`,
  );
}
