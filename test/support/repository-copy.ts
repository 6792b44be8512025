/**
 * A throwaway copy of this repository (what git knows, as it is in the work tree, with
 * node_modules linked), for the registry tests that add an operation or a vendor to it and
 * check that openapi.json, the packaged template and `npm start` pick it up.
 * @module
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const env = { ...process.env, npm_config_update_notifier: 'false' };

/** Copies the repository into a new temporary folder named `<prefix>…`; returns its path. */
export async function copyRepository(prefix: string): Promise<string> {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  // The files git knows (tracked, or new and not ignored), as they are in the work tree.
  const { stdout } = await exec('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const file of stdout.split('\0').filter((name) => name !== '' && name !== 'node_modules')) {
    try {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    } catch {
      // A file deleted in the work tree but not yet in git's index.
    }
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

/** Runs `npm run openapi` and `npm run package` in a copy; returns what they wrote. */
export async function buildCopy<OpenApi, Template>(copy: string): Promise<{ openapi: OpenApi; template: Template }> {
  await exec('npm', ['run', '--silent', 'openapi'], { cwd: copy, env });
  await exec('npm', ['run', '--silent', 'package'], { cwd: copy, env, maxBuffer: 32 * 1024 * 1024, timeout: 180_000 });
  return {
    openapi: JSON.parse(readFileSync(join(copy, 'openapi.json'), 'utf8')) as OpenApi,
    template: JSON.parse(readFileSync(join(copy, '.serverless/cloudformation-template-update-stack.json'), 'utf8')) as Template,
  };
}
