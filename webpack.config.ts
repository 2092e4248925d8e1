import path from 'path';
import type { Configuration } from 'webpack';
import { merge } from 'webpack-merge';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

// Extends the create-plugin config (never edited by hand): the plugin bundles the shared
// evaluator from its TypeScript source, so the browser runs exactly the sidecar's code.
const config = async (env: Env): Promise<Configuration> => {
  const baseConfig = await grafanaConfig(env);
  return merge(baseConfig, {
    module: {
      // The evaluator's modules only export (no import-time effects), so the parts a page does not
      // use (the YAML rule-file reader) are left out of the bundle.
      rules: [{ test: /packages[\\/]evaluator[\\/]src[\\/]/, sideEffects: false }],
    },
    resolve: {
      alias: {
        '@betrace/evaluator$': path.resolve(process.cwd(), 'packages/evaluator/src/index.ts'),
      },
    },
  });
};

export default config;
