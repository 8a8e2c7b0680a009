import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  Worker,
  type NativeConnection,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { userErrorInterceptor } from './user-error-interceptor.js';
import { heartbeatInterceptor } from './heartbeat-interceptor.js';
import { modelCallInterceptor } from './model-call-interceptor.js';
import { withDecisionKeys } from './decision-keys-bundle.js';
import type { DecisionKeyring } from '../schemas/signed-decision.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/**
 * Bundle the workflows once per process, decision keyring and failure converter: each bundle
 * costs about a second of webpack, and the public keys the Update validators verify human
 * decisions with are baked into it. Replay needs none (validators do not run on replay).
 * `failureConverterPath` (the worker's `dataConverter.failureConverterPath`) is the failure
 * converter of workflow code: failures it raises are encoded as the worker's activities' are.
 */
export function workflowBundle(
  decisionKeys: DecisionKeyring = {},
  failureConverterPath?: string,
): Promise<WorkflowBundleWithSourceMap> {
  const keys = Object.fromEntries(Object.entries(decisionKeys).sort(([a], [b]) => a.localeCompare(b)));
  const id = JSON.stringify([keys, failureConverterPath ?? null]);
  let bundle = bundles.get(id);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: quietBundlerLogger,
      webpackConfigHook: withDecisionKeys(keys),
      ...(failureConverterPath ? { failureConverterPath } : {}),
    });
    bundles.set(id, bundle);
  }
  return bundle;
}

const noop = () => undefined;
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: (m: string) => console.error(m),
  log: noop,
};

export interface FlywheelWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The clients' data converter (workers/data-converter.ts): a worker that cannot decode their payloads fails every task. */
  dataConverter: DataConverter;
  /** The public keys human decisions are verified with (config.decisions.verify); empty: every decision is refused. */
  decisionKeys: DecisionKeyring;
  maxCachedWorkflows?: number;
  /**
   * A workflow bundle built elsewhere (another release's workflow code, as a deploy brings it);
   * by default this process bundles workflows/ itself.
   */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** How this worker appears in history (each workflow task records it); by default pid@host. */
  identity?: string;
}

/**
 * How long workflow code may run in one activation. The optimizer's search runs inside
 * workflow code; rebuilding it from a checkpoint log of ~2,000 steps (after continue-as-new,
 * or a replay off the sticky cache) takes ~0.7 s on an idle core but passed the SDK's 5 s on
 * a busy 2-core worker, and the task then failed "Script execution timed out" on every retry
 * (9 attempts seen in bench:flywheel). 9 s stays below the server's default 10 s workflow
 * task timeout: a longer task timeout on the optimize child (tried: 1 minute) left the
 * full-cycle test's optimize stage stalled past 4 minutes in 2 of 6 runs, as every lost task
 * of its many continued runs waited a minute. The SDK reads the option although its type
 * does not list it yet.
 */
export const ISOLATE_TIMEOUT = { isolateExecutionTimeout: '9s' } as const;

export async function createFlywheelWorker(options: FlywheelWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle:
      options.workflowBundle ??
      (await workflowBundle(options.decisionKeys, options.dataConverter.failureConverterPath)),
    ...(options.identity ? { identity: options.identity } : {}),
    activities: createActivities(options.deps),
    dataConverter: options.dataConverter,
    interceptors: { activity: [userErrorInterceptor, heartbeatInterceptor, modelCallInterceptor] },
    maxConcurrentActivityTaskExecutions: 20,
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    shutdownGraceTime: '10s',
    ...ISOLATE_TIMEOUT,
  });
}
