import { writeFileSync } from 'node:fs';
import { openApiDocument } from '#shared/api/openapi.ts';

/** `npm run openapi`: regenerates the shipped openapi.json (a test fails when it is stale). */
writeFileSync(new URL('../openapi.json', import.meta.url), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
