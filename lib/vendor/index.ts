/**
 * The vendor registry: every vendor declared (defineVendor) in this folder, found by reading
 * the folder, so that adding a vendor's adapter file is all it takes to register it. Tools,
 * deploy templates (infra/environment.cjs), the local world and tests list vendors through
 * it; a function's bundle never does (its spec imports its own vendor's adapter only).
 * @module
 */
import { readdir } from 'node:fs/promises';
import { isVendor, type VendorApi } from './api.js';

/** Every vendor of lib/vendor/, sorted by name. */
export async function loadVendors(): Promise<VendorApi[]> {
  const folder = new URL('./', import.meta.url);
  const files = (await readdir(folder)).filter(
    (file) => /\.[cm]?[jt]s$/.test(file) && !file.endsWith('.d.ts') && !/^(index|types)\./.test(file),
  );
  const found: VendorApi[] = [];
  for (const file of files.sort()) {
    const module = (await import(new URL(file, folder).href)) as Record<string, unknown>;
    found.push(...Object.values(module).filter(isVendor));
  }
  const names = new Set(found.map((vendor) => vendor.name));
  if (names.size !== found.length) throw new Error('Two vendors share a name.');
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Every vendor's variables at their defaults, merged: what a deployment gets when it sets nothing. */
export function vendorDefaults(vendors: readonly VendorApi[]): Record<string, unknown> {
  return Object.assign({}, ...vendors.map((vendor) => vendor.settingsDefaults()));
}
