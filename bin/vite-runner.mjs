// Vite's module runner for the command line: imports the TypeScript sources as Vite serves them to a
// server (each file transformed when first imported: TypeScript stripped, `?raw` WGSL as strings),
// with every package under node_modules imported by Node itself.
//
// Transforming ~120 files takes seconds, so what Vite answers for each module is kept in
// node_modules/.cache/lora-playground/ with the size and modification time of the file it came from,
// and used again while that file is unchanged. When every module is answered from there, Vite itself
// (its dev environment) is never even loaded; a changed file is transformed again by a fresh one.
// An answer also holds where the file's imports resolved to: a new file that would change that without
// changing the importer (src/lib/data.ts added next to src/lib/data/) is not noticed — delete the folder.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeImportMeta, ESModulesEvaluator, ModuleRunner } from 'vite/module-runner';

/** The files a cached answer depends on, with their size and modification time. */
function stamp(path) {
  try {
    const s = statSync(path);
    return [path, s.size, s.mtimeMs];
  } catch {
    return null;
  }
}

const unchanged = ([path, size, mtimeMs]) => {
  const now = stamp(path);
  return now !== null && now[1] === size && now[2] === mtimeMs;
};

/** The file an answer came from: a transformed module's file, or the file Node imports for a package. */
function sourceOf(result) {
  if (typeof result.file === 'string') return result.file;
  if (typeof result.externalize === 'string' && result.externalize.startsWith('file:')) return fileURLToPath(result.externalize);
  return null;
}

/**
 * A runner for the sources under `root`. `close()` ends it (and Vite, if it was started) and saves
 * what was transformed.
 */
export async function createRunner(root) {
  const { version: viteVersion } = JSON.parse(readFileSync(join(root, 'node_modules', 'vite', 'package.json'), 'utf8'));
  const cacheDir = join(root, 'node_modules', '.cache', 'lora-playground');
  // Answers depend on Vite (the transform) and Node (the evaluator's line offset in source maps).
  const cacheFile = join(cacheDir, `modules-vite${viteVersion}-node${process.versions.node}.json`);
  let entries = {};
  try {
    entries = JSON.parse(readFileSync(cacheFile, 'utf8'));
  } catch {
    // none yet, or unreadable: start empty
  }
  let changed = false;

  let environment = null;
  const vite = async () => {
    environment ??= (async () => {
      const { createRunnableDevEnvironment, resolveConfig } = await import('vite');
      const config = await resolveConfig(
        {
          root,
          configFile: false, // not vite.config.ts: the page's plugins (Svelte, the models folder) are not needed
          envDir: false,
          logLevel: 'silent',
          cacheDir: join(cacheDir, 'vite'),
          environments: {
            cli: {
              consumer: 'server',
              dev: { moduleRunnerTransform: true },
              resolve: { external: true, mainFields: [], conditions: ['node'] },
            },
          },
        },
        'serve',
      );
      const env = createRunnableDevEnvironment('cli', config, { hot: false });
      await env.init();
      return env;
    })();
    return environment;
  };

  /** One request of the runner (fetchModule, getBuiltins): from the cache while its files are unchanged, else from Vite. */
  async function invoke(payload) {
    const { name, data } = payload.data;
    if (name === 'fetchModule' && data[2]?.cached) return { result: { cache: true } }; // the runner has it already
    // A root-relative URL names one file; a package name may resolve differently from another importer.
    const key = name === 'getBuiltins' ? name : data[0].startsWith('/') ? data[0] : `${data[0]}\0${data[1]}`;
    const hit = entries[key];
    if (hit && hit.files.every(unchanged)) return { result: hit.result };
    const answer = await (await vite()).hot.handleInvoke(payload);
    if ('result' in answer) {
      const source = name === 'fetchModule' ? sourceOf(answer.result) : null;
      const files = source ? [stamp(source)] : [];
      if (name === 'getBuiltins' || (files.length && files[0] !== null)) {
        entries[key] = { files, result: answer.result };
        changed = true;
      }
    }
    return answer;
  }

  const runner = new ModuleRunner(
    { transport: { invoke }, createImportMeta: createNodeImportMeta, sourcemapInterceptor: 'prepareStackTrace', hmr: false },
    new ESModulesEvaluator(),
  );

  return {
    runner,
    async close() {
      await runner.close();
      if (environment) await (await environment).close();
      if (!changed) return;
      try {
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, JSON.stringify(entries));
        renameSync(tmp, cacheFile); // whole or not at all, even with two commands running
      } catch {
        // a read-only node_modules: the next start transforms again
      }
    },
  };
}
