/**
 * Every vendor's local side (defineLocalVendor) in this folder, found by reading the folder,
 * so a new vendor's simulator side is one new file here.
 * @module
 */
import { readdir } from 'node:fs/promises';
import { isLocalVendor, type LocalVendor } from './types.js';

/** Every local side of sim/vendors/, by vendor name. */
export async function loadLocalVendors(): Promise<Map<string, LocalVendor>> {
  const folder = new URL('./', import.meta.url);
  const files = (await readdir(folder)).filter(
    (file) => /\.[cm]?[jt]s$/.test(file) && !file.endsWith('.d.ts') && !/^(index|types)\./.test(file),
  );
  const found = new Map<string, LocalVendor>();
  for (const file of files.sort()) {
    const module = (await import(new URL(file, folder).href)) as Record<string, unknown>;
    for (const side of Object.values(module).filter(isLocalVendor)) {
      if (found.has(side.vendor)) throw new Error(`Two local sides for the vendor ${side.vendor}.`);
      found.set(side.vendor, side);
    }
  }
  return found;
}
