import { openApiDocument } from '#shared/api/openapi.ts';
import { httpHandler, json } from '#shared/http.ts';

const document = openApiDocument();

/** The `openApi` route (public, no token): the OpenAPI 3.1 document generated from the zod schemas. */
export const handler = httpHandler(async () => json(200, document));
