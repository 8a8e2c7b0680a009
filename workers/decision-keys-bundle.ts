import { createRequire } from 'node:module';
import type { BundleOptions } from '@temporalio/worker';
import type { DecisionKeyring } from '../schemas/signed-decision.js';
import { DECISION_KEYS_CONSTANT } from '../workflows/decision-keys.js';

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
type WebpackPlugin = NonNullable<WebpackConfig['plugins']>[number];

/** The part of webpack used here, from the copy Temporal's bundler runs, so the plugin fits its compiler. */
interface Webpack {
  DefinePlugin: new (definitions: Record<string, string>) => WebpackPlugin;
}
const webpack = createRequire(createRequire(import.meta.url).resolve('@temporalio/worker'))(
  'webpack',
) as Webpack;

/**
 * A bundler hook that bakes `keys` into the workflow bundle as a constant, read by
 * workflows/decision-keys.ts: the Update validators verify human decisions with them, and
 * workflow code cannot read the environment or files. Only public keys: a bundle (or a
 * worker) holding them cannot sign.
 */
export function withDecisionKeys(keys: DecisionKeyring): (config: WebpackConfig) => WebpackConfig {
  return (config) => ({
    ...config,
    plugins: [
      ...(config.plugins ?? []),
      new webpack.DefinePlugin({ [DECISION_KEYS_CONSTANT]: JSON.stringify(keys) }),
    ],
  });
}
