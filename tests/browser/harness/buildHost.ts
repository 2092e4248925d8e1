/**
 * Bundles the host page (tests/browser/host) with the libraries Grafana shares with plugins, from
 * the npm packages in node_modules, for the browser: once per run, with webpack (already a
 * devDependency, as the plugin's own build uses it) and swc. An unchanged host and lockfile reuse
 * the last bundle; webpack's filesystem cache makes a changed one quick to rebuild.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import webpack from 'webpack';
import { OUTPUT, ROOT } from './paths';

export const HOST_SRC = path.join(ROOT, 'tests/browser/host');
export const HOST_OUT = path.join(OUTPUT, 'host');

function stamp(): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(HOST_SRC).sort()) {
    h.update(f).update(fs.readFileSync(path.join(HOST_SRC, f)));
  }
  h.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  h.update(fs.readFileSync(__filename));
  return h.digest('hex');
}

export async function buildHost(): Promise<string> {
  const want = stamp();
  const stampFile = path.join(HOST_OUT, '.stamp');
  if (
    fs.existsSync(stampFile) &&
    fs.readFileSync(stampFile, 'utf8') === want &&
    fs.existsSync(path.join(HOST_OUT, 'host.js'))
  ) {
    return HOST_OUT;
  }
  fs.rmSync(HOST_OUT, { recursive: true, force: true });
  const compiler = webpack({
    // Grafana serves production builds of the shared libraries (no dev-only warnings, no dev checks).
    mode: 'production',
    context: HOST_SRC,
    entry: { host: './host.tsx' },
    devtool: false,
    output: {
      path: HOST_OUT,
      filename: '[name].js',
      chunkFilename: 'chunk.[contenthash].js',
      publicPath: '/public/host/',
    },
    resolve: {
      extensions: ['.tsx', '.ts', '.mjs', '.js', '.json'],
      // Grafana's own code reaches these through internal paths the packages do not export.
      alias: {
        'grafana-runtime-plugin-page$': path.join(
          ROOT,
          'node_modules/@grafana/runtime/dist/esm/components/PluginPage.mjs'
        ),
        'grafana-runtime-user$': path.join(ROOT, 'node_modules/@grafana/runtime/dist/esm/services/user.mjs'),
        'grafana-i18n-internal$': path.join(ROOT, 'node_modules/@grafana/i18n/dist/esm/i18n.mjs'),
      },
    },
    module: {
      rules: [
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2020' } },
          },
        },
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.(svg|png|jpe?g|gif|woff2?|ttf|eot)$/, type: 'asset/resource' },
      ],
    },
    // Minifying megabytes of libraries costs minutes on a 2-core runner and proves nothing here.
    optimization: { minimize: false },
    performance: { hints: false },
    cache: {
      type: 'filesystem',
      cacheDirectory: path.join(OUTPUT, '.webpack-cache'),
      buildDependencies: { config: [__filename] },
    },
  });
  await new Promise<void>((resolve, reject) => {
    compiler.run((err, stats) => {
      compiler.close(() => undefined);
      if (err) {
        reject(err);
      } else if (stats?.hasErrors()) {
        reject(new Error(`the host bundle did not build:\n${stats.toString({ all: false, errors: true })}`));
      } else {
        resolve();
      }
    });
  });
  fs.copyFileSync(path.join(HOST_SRC, 'index.html'), path.join(HOST_OUT, 'index.html'));
  fs.writeFileSync(stampFile, want);
  return HOST_OUT;
}
