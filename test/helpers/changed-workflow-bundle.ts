import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/flywheel-worker.js';
import { withDecisionKeys } from '../../workers/decision-keys-bundle.js';
import type { DecisionKeyring } from '../../schemas/signed-decision.js';

/** The part of webpack's compiler the redirect uses: the request of each import before it resolves. */
interface Compiler {
  hooks: {
    normalModuleFactory: {
      tap(
        name: string,
        fn: (factory: {
          hooks: {
            beforeResolve: {
              tap(
                name: string,
                fn: (data: { contextInfo: { issuer: string }; request: string }) => void,
              ): void;
            };
          };
        }) => void,
      ): void;
    };
  };
}

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const CYCLE_WORKFLOW = path('../../workflows/cycle-workflow.ts');

/** The two builds of the next release's cycle steps (test/fixtures/workflow-change/). */
export const CHANGED_CYCLE_STEPS = {
  patched: path('../fixtures/workflow-change/cycle-steps-patched.ts'),
  unguarded: path('../fixtures/workflow-change/cycle-steps-unguarded.ts'),
} as const;

/**
 * The workflow bundle of a release whose cycle code changed: the real workflows with
 * cycleWorkflow's import of cycle-steps served by `variant` (which re-exports the real steps
 * and replaces one). Only cycle-workflow.ts's import is redirected, so the variant itself
 * still reaches the real module. Built like workers/flywheel-worker.ts's bundle, decision keys
 * and failure converter included, so a worker on it serves live cycles.
 */
export function changedWorkflowBundle(
  variant: keyof typeof CHANGED_CYCLE_STEPS,
  options: { decisionKeys?: DecisionKeyring; failureConverterPath?: string | undefined } = {},
): Promise<WorkflowBundleWithSourceMap> {
  const redirect = {
    apply(compiler: Compiler) {
      compiler.hooks.normalModuleFactory.tap('flywheel-changed-workflow', (factory) => {
        factory.hooks.beforeResolve.tap('flywheel-changed-workflow', (data) => {
          if (data.contextInfo.issuer === CYCLE_WORKFLOW && data.request === './cycle-steps.js')
            data.request = CHANGED_CYCLE_STEPS[variant];
        });
      });
    },
  };
  const withKeys = withDecisionKeys(options.decisionKeys ?? {});
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m), log() {} },
    webpackConfigHook: (config) => withKeys({ ...config, plugins: [...(config.plugins ?? []), redirect] }),
    ...(options.failureConverterPath ? { failureConverterPath: options.failureConverterPath } : {}),
  });
}
