import { DiscoverInput } from '../../shared/schemas.ts';
import { discoverConversations } from '../../shared/sync/discover.ts';

/** Workflow step "Discover <platform> conversations": counts them and lays out chunk cursors. */
export const handler = async (event: unknown) => discoverConversations(DiscoverInput.parse(event));
