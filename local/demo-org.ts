import type { SimPage } from './graph-sim/demo-data/sim-types.ts';

export const DEMO_ORG = 'demo-org';

/**
 * Connects a simulated page to an organization through the product's own page store, so the token
 * is stored as the connect route stores it (KMS ciphertext). An existing page is left as it is.
 * Imported lazily: the store's clients must see the local endpoints first.
 */
export async function connectPage(organizationId: string, page: SimPage): Promise<void> {
  const { insertPage } = await import('#shared/store/page-repository.ts');
  const { encryptPageToken } = await import('#shared/secrets/page-token-vault.ts');
  await insertPage({
    pageId: page.id,
    organizationId,
    pageName: page.name,
    ...(page.instagramAccountId ? { instagramAccountId: page.instagramAccountId } : {}),
    accessTokenCiphertext: await encryptPageToken(page.id, page.accessToken),
    contactCount: 0,
    connectedAt: new Date().toISOString(),
  });
}
