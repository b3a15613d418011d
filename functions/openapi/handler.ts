import { openApiDocument } from '#shared/contract.ts';
import { httpHandler, json } from '#shared/http.ts';

const document = openApiDocument();

/** GET /openapi.json (no token): the OpenAPI 3.1 document generated from the zod schemas. */
export const handler = httpHandler(async () => json(200, document));
