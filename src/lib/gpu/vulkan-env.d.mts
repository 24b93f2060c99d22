// Types of vulkan-env.mjs (plain JavaScript: the launcher runs it before TypeScript can be loaded).

export declare const CHROMIUM_DIR: string;
export declare const SWIFTSHADER_ICD: string;
export declare const ICD_DIRS: string[];

/** The file system as vulkanSetup reads it. */
export interface VulkanFs {
  exists(path: string): boolean;
  list(dir: string): string[];
  /** The dynamic loader's cache (/etc/ld.so.cache), or null when it cannot be read. */
  ldCache(): { includes(text: string): boolean } | null;
}

export interface VulkanSetup {
  /** Variables to set (none when a driver is installed or the user chose one). */
  set: { VK_ICD_FILENAMES?: string; LD_LIBRARY_PATH?: string };
  /** LD_LIBRARY_PATH is among them: only a new process sees it. */
  restart: boolean;
  /** What was found, one sentence each. */
  notes: string[];
}

export declare function vulkanSetup(env?: Record<string, string | undefined>, platform?: string, fs?: VulkanFs): VulkanSetup;
export declare function shellExports(set: Record<string, string>): string;
