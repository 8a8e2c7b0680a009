import type { Command } from 'commander';
import { generateDecisionKey } from '../release/decision-signing-service.js';
import { decisionPublicKey } from '../release/decision-signature.js';
import { loadConfig } from './load-config.js';

/** `flywheel decision-key new|public`: the keys human decisions are signed and verified with. */
export function registerDecisionKeyCommands(program: Command): void {
  const key = program
    .command('decision-key')
    .description(
      'the Ed25519 keys the API signs approvals and rollout actions with (see README "Decision keys")',
    );
  key
    .command('new')
    .description('generate a signing key (for the API) and print its public half (for the workers)')
    .option('--kid <id>', 'key id (default decision-<date>-<random>)')
    .action((opts: { kid?: string }) => {
      const k = generateDecisionKey(opts.kid);
      console.log(`# The API only; keep it secret:
FLYWHEEL_DECISION_SIGNING_KEY=${k.kid}:${k.privateKey}
# Every worker (when rotating, add it to the keys they already trust, comma-separated):
FLYWHEEL_DECISION_VERIFY_KEYS=${k.kid}:${k.publicKey}`);
    });
  key
    .command('public')
    .description(
      "print the public half of this process's signing key, as FLYWHEEL_DECISION_VERIFY_KEYS takes it",
    )
    .action(() => {
      let decisions;
      try {
        decisions = loadConfig().decisions;
      } catch (error) {
        console.error(`flywheel: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
        return;
      }
      const { signing, source } = decisions;
      if (!signing) {
        console.error(
          'flywheel: no decision signing key (set FLYWHEEL_DECISION_SIGNING_KEY, or run `npm start` once to generate one).',
        );
        process.exitCode = 1;
        return;
      }
      console.log(`${signing.kid}:${decisionPublicKey(signing.privateKey)}   # from ${source}`);
    });
}
