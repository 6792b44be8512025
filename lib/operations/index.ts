import { readdir } from 'node:fs/promises';
import { isOperation, type Operation } from '../spec/operation.js';

/**
 * The registry: every operation spec in this folder, found by reading the folder, so that
 * adding a spec file is all it takes to register it. Tools, deploy templates and tests use
 * it; a function's bundle never does (it imports only its own spec).
 */
export async function loadOperations(): Promise<Operation[]> {
  const folder = new URL('./', import.meta.url);
  const files = (await readdir(folder)).filter((file) => /\.[cm]?[jt]s$/.test(file) && !file.endsWith('.d.ts') && !/^index\./.test(file));
  const found: Operation[] = [];
  for (const file of files.sort()) {
    const module = (await import(new URL(file, folder).href)) as Record<string, unknown>;
    found.push(...Object.values(module).filter(isOperation));
  }
  const names = new Set(found.map((op) => op.functionName));
  if (names.size !== found.length) throw new Error('Two operation specs share a functionName.');
  return found.sort((a, b) => a.functionName.localeCompare(b.functionName));
}
