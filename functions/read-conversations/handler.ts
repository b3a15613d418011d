import { ReadInput } from '#shared/schemas.ts';
import { readConversations } from '#shared/sync/read-conversations.ts';
import { workerHandler } from '#shared/worker.ts';

/** Workflow step "Read conversations": reads the list once, staging each page as a chunk for the workers. */
export const handler = workerHandler(ReadInput, (input) => readConversations(input));
