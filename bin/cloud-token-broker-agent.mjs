#!/usr/bin/env node
// cloud-token-broker-agent from a checkout (after `npm ci`): registers tsx through its public
// API and runs agent/main.ts. `npm run build` also writes a single-file bundle,
// dist/agent/cloud-token-broker-agent.mjs, that runs with plain Node and no node_modules.
import { register } from 'tsx/esm/api';

register();
await import('../agent/main.ts');
