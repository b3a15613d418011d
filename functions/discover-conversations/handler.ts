import { DiscoverInput } from '../../shared/schemas.ts';
import { discoverConversations } from '../../shared/sync/discover.ts';
import { workerHandler } from '../../shared/worker.ts';

/** Workflow step "Discover <platform> conversations": counts them and lays out chunk cursors. */
export const handler = workerHandler(DiscoverInput, (input) => discoverConversations(input));
