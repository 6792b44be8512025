// Writes openapi.json from the registry's zod schemas: npm run openapi
import { writeFileSync } from 'node:fs';
import { loadOperations } from '../lib/operations/index.js';
import { openApiDocument } from '../lib/spec/openapi.js';

const file = new URL('../openapi.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(openApiDocument(await loadOperations()), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
