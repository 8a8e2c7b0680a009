// Runs as the root `postinstall`: make sure the Temporal CLI exists before anyone needs it.
import { ensureTemporalCli } from './temporal-cli.js';

try {
  const cli = await ensureTemporalCli();
  console.log(`flywheel: Temporal CLI at ${cli}`);
} catch (error) {
  console.error(`\nflywheel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
