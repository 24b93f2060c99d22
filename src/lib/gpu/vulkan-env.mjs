// Where Dawn (the `webgpu` package) finds a Vulkan driver on Linux, and what to set when there is no
// GPU: Debian's chromium ships SwiftShader (a Vulkan driver on the CPU) and its own Vulkan loader in
// /usr/lib/chromium. Plain JavaScript because the command line's launcher and scripts/test.sh run it
// before any TypeScript loader exists; src/lib/gpu/node.ts uses it to say what was tried.
//
//   VK_ICD_FILENAMES  read by the Vulkan loader when Dawn first loads it, so it can be set in-process.
//   LD_LIBRARY_PATH   read by the dynamic loader once, at process start: a process that needs it must
//                     be started again with it (the launcher re-executes itself; test.sh exports it).
//
// Run as a script, it prints the `export` lines a shell needs: eval "$(node src/lib/gpu/vulkan-env.mjs)".

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's chromium package: SwiftShader's driver manifest and the Vulkan loader it links. */
export const CHROMIUM_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
/** Where installed Vulkan drivers put their manifests. */
export const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const LOADER = 'libvulkan.so.1';

/** The file system as this module reads it; tests pass their own. */
const realFs = {
  exists: (path) => existsSync(path),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  /** The dynamic loader's cache (what `ldconfig -p` prints), or null when it cannot be read. */
  ldCache: () => {
    try {
      return readFileSync('/etc/ld.so.cache');
    } catch {
      return null;
    }
  },
};

/**
 * What to set for Dawn to find a Vulkan driver, given the environment: `set` holds the variables to
 * change (none when a driver is installed or the user chose one), `restart` says that one of them is
 * LD_LIBRARY_PATH (so the process must be started again), `notes` says what was found.
 */
export function vulkanSetup(env = process.env, platform = process.platform, fs = realFs) {
  const set = {};
  const notes = [];
  if (platform !== 'linux') return { set, restart: false, notes: [`${platform}: Dawn uses the system's own GPU API`] };

  const icds = ICD_DIRS.flatMap((dir) => fs.list(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)));
  const chosen = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
  if (chosen) notes.push(`Vulkan driver chosen by the environment: ${chosen}`);
  else if (icds.length) notes.push(`Vulkan drivers installed: ${icds.join(', ')}`);
  else if (fs.exists(SWIFTSHADER_ICD)) {
    set.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    notes.push(`no Vulkan driver installed (${ICD_DIRS.join(', ')}); using chromium's SwiftShader (${SWIFTSHADER_ICD})`);
  } else notes.push(`no Vulkan driver installed (${ICD_DIRS.join(', ')}) and no SwiftShader at ${SWIFTSHADER_ICD}`);

  const libraryPath = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  const cache = fs.ldCache();
  const inCache = cache !== null && cache.includes(LOADER);
  const inPath = libraryPath.find((dir) => fs.exists(join(dir, LOADER)));
  if (inCache) notes.push(`${LOADER} is known to the dynamic loader`);
  else if (inPath) notes.push(`${LOADER} from ${inPath} (LD_LIBRARY_PATH)`);
  else if (fs.exists(join(CHROMIUM_DIR, LOADER))) {
    set.LD_LIBRARY_PATH = [CHROMIUM_DIR, ...libraryPath].join(delimiter);
    notes.push(`${LOADER} is not installed; using chromium's (${CHROMIUM_DIR}) through LD_LIBRARY_PATH`);
  } else notes.push(`${LOADER} (the Vulkan loader) is not installed and chromium's is not there either`);

  return { set, restart: 'LD_LIBRARY_PATH' in set, notes };
}

/** `export NAME='value'` lines for a POSIX shell. */
export function shellExports(set) {
  return Object.entries(set)
    .map(([name, value]) => `export ${name}='${String(value).replaceAll("'", "'\\''")}'`)
    .join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = shellExports(vulkanSetup().set);
  if (out) process.stdout.write(out + '\n');
}
