// When Dawn gets chromium's SwiftShader (src/lib/gpu/vulkan-env.mjs), decided from the environment and
// a stand-in file system: only when no Vulkan driver or loader is installed, never over the user's choice.

import { describe, expect, it } from 'vitest';
import { shellExports, SWIFTSHADER_ICD, vulkanSetup, type VulkanFs } from '../../src/lib/gpu/vulkan-env.mjs';

/** A file system holding `files`; `cached` are the libraries the dynamic loader's cache knows. */
function fakeFs(files: string[], cached: string[] = []): VulkanFs {
  const set = new Set(files);
  return {
    exists: (p) => set.has(p),
    list: (dir) => files.filter((f) => f.startsWith(dir + '/')).map((f) => f.slice(dir.length + 1)),
    ldCache: () => ({ includes: (name: string) => cached.includes(name) }),
  };
}

const CHROMIUM = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium/libvulkan.so.1'];

describe('vulkanSetup', () => {
  it('without a GPU driver or Vulkan loader: chromium’s SwiftShader and loader, which needs a restart', () => {
    const s = vulkanSetup({ LD_LIBRARY_PATH: '/opt/lib' }, 'linux', fakeFs(CHROMIUM));
    expect(s.set).toEqual({ VK_ICD_FILENAMES: SWIFTSHADER_ICD, LD_LIBRARY_PATH: '/usr/lib/chromium:/opt/lib' });
    expect(s.restart).toBe(true);
  });

  it('with an installed driver and loader: nothing to set', () => {
    const s = vulkanSetup({}, 'linux', fakeFs([...CHROMIUM, '/usr/share/vulkan/icd.d/nvidia_icd.json'], ['libvulkan.so.1']));
    expect(s.set).toEqual({});
    expect(s.restart).toBe(false);
    expect(s.notes.join(' ')).toContain('/usr/share/vulkan/icd.d/nvidia_icd.json');
  });

  it('keeps a driver the user chose, and a loader already on LD_LIBRARY_PATH (so a restarted launcher does not restart again)', () => {
    const s = vulkanSetup({ VK_ICD_FILENAMES: '/mine.json', LD_LIBRARY_PATH: '/usr/lib/chromium' }, 'linux', fakeFs(CHROMIUM));
    expect(s.set).toEqual({});
    expect(s.restart).toBe(false);
  });

  it('sets only the driver when the loader is installed', () => {
    const s = vulkanSetup({}, 'linux', fakeFs(CHROMIUM, ['libvulkan.so.1']));
    expect(s.set).toEqual({ VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    expect(s.restart).toBe(false);
  });

  it('says what is missing when there is no chromium either, and sets nothing', () => {
    const s = vulkanSetup({}, 'linux', fakeFs([]));
    expect(s.set).toEqual({});
    expect(s.notes.join(' ')).toMatch(/no SwiftShader at \/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    expect(s.notes.join(' ')).toMatch(/libvulkan\.so\.1 \(the Vulkan loader\) is not installed/);
  });

  it('leaves other systems to their own GPU API', () => {
    expect(vulkanSetup({}, 'darwin', fakeFs(CHROMIUM)).set).toEqual({});
  });
});

describe('shellExports', () => {
  it('quotes values for a POSIX shell', () => {
    expect(shellExports({ A: "it's", B: '/x' })).toBe("export A='it'\\''s'\nexport B='/x'");
  });
});
