// Builds the browser bundle of the shared code (index.ts -> dist/browser/shared.js) with
// esbuild: an ES module with zod and the catalog inside, so the page runs the same
// checks as the engine (docs/engine-decisions.md, "the browser runs the shared code").
// Run by `npm run build` and by the jest global set-up, so tests never see a stale one.
import * as path from 'node:path';
import { browserBundleDir, BUNDLE_FILE } from './bundleDir';

/** The entry in the sources, from here or from dist/shared/browser. */
function entryPoint(): string {
  const here = path.resolve(__dirname);
  const inDist = path.basename(path.resolve(here, '..', '..')) === 'dist';
  return inDist ? path.resolve(here, '..', '..', '..', 'shared', 'browser', 'index.ts') : path.join(here, 'index.ts');
}

/**
 * zod re-exports every locale (about 260 kB of the bundle); its messages here are our own
 * and English, and zod installs `en` itself: the locale index becomes an empty module.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(build: { onResolve: Function; onLoad: Function }) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args: { importer: string }) =>
      (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

export async function buildBrowserBundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = path.join(browserBundleDir().dir, BUNDLE_FILE);
  await esbuild.build({
    entryPoints: [entryPoint()],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [englishOnly],
  });
  return outfile;
}

if (require.main === module) {
  buildBrowserBundle().then(
    (file) => process.stdout.write(`browser bundle: ${file}\n`),
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
