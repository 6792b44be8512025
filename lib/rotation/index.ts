/**
 * The rotation registry: every vendor key API (defineMasterKeyApi) in lib/rotation/vendors/,
 * found by reading the folder, so that adding a vendor's file is all it takes. The rotation
 * functions (functions/<vendor>-rotate-master-key.ts), deploy entries, roles, alarms, docs
 * tables and tests derive from it; a function's bundle never imports it.
 * @module
 */
import { readdir } from 'node:fs/promises';
import { isMasterKeyApi, type MasterKeyApi } from './api.js';
import { rotationFunctionName } from './handler.js';

/** A vendor's rotation as tools see it: its key API and the function that runs it. */
export interface Rotation {
  functionName: string;
  vendor: string;
  api: MasterKeyApi;
}

/** Every vendor key API of lib/rotation/vendors/, sorted by vendor name. */
export async function loadMasterKeyApis(): Promise<MasterKeyApi[]> {
  const folder = new URL('./vendors/', import.meta.url);
  let files: string[];
  try {
    files = await readdir(folder);
  } catch (error) {
    // No vendor has a key API yet: no rotation.
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
  const found: MasterKeyApi[] = [];
  for (const file of files.filter((name) => /\.[cm]?[jt]s$/.test(name) && !name.endsWith('.d.ts')).sort()) {
    const module = (await import(new URL(file, folder).href)) as Record<string, unknown>;
    found.push(...Object.values(module).filter(isMasterKeyApi));
  }
  const names = new Set(found.map((api) => api.vendor.name));
  if (names.size !== found.length) throw new Error('Two key APIs share a vendor.');
  return found.sort((a, b) => a.vendor.name.localeCompare(b.vendor.name));
}

/** Every rotation: one function per vendor key API. */
export async function loadRotations(): Promise<Rotation[]> {
  return (await loadMasterKeyApis()).map((api) => ({ functionName: rotationFunctionName(api.vendor.name), vendor: api.vendor.name, api }));
}
