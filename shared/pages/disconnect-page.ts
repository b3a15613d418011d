import { InvalidTransition, JobNotFound, PageBusy } from '../domain-errors.ts';
import { deletePage } from '../store/page-repository.ts';
import { cancelSync } from '../sync/commands/cancel-sync.ts';
import { ownedPage } from './owned-page.ts';

/**
 * Disconnects a page: an active sync is cancelled first (as "Stop Sync" would, so its saved
 * contacts stay and its counters are final), then the page is removed. Contacts and job history
 * are kept. The delete only succeeds on an idle page, so a sync started in between is stopped too.
 */
export async function disconnectPage(req: {
  pageId: string;
  organizationId: string;
  userId: string;
}): Promise<void> {
  const requestedAt = Date.now();
  for (let attempt = 0; attempt < 3; attempt++) {
    const page = await ownedPage(req.pageId, req.organizationId);
    if (page.activeJobId) {
      await cancelSync({
        jobId: page.activeJobId,
        organizationId: req.organizationId,
        userId: req.userId,
        reason: 'Page disconnected',
        requestedAt,
      }).catch((error: unknown) => {
        // The job finished meanwhile or is gone: nothing left to stop.
        if (!(error instanceof InvalidTransition || error instanceof JobNotFound)) throw error;
      });
    }
    if (await deletePage(req.pageId, req.organizationId)) return;
  }
  throw new PageBusy();
}
