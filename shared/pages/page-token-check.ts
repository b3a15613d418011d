import { numberEnv, optionalEnv } from '../config.ts';
import {
  GraphUnavailable,
  PagePermissionMissing,
  PageTokenRejected,
  TokenOfAnotherPage,
} from '../domain-errors.ts';
import { GraphApiError, TOKEN_SUBCODES } from '../graph/graph-api-error.ts';
import { DEFAULT_GRAPH_API_URL, GraphClient } from '../graph/graph-client.ts';

/** What Graph says of the page a checked token speaks for. */
export interface CheckedPage {
  pageName: string;
  instagramAccountId?: string;
}

/** How long a client is told to wait when Graph is down or throttling. */
export const GRAPH_RETRY_AFTER_SECONDS = 30;

/**
 * A client for a request/response check: few retries and short waits, so an answer comes well
 * within the API's timeout; Graph still down after them is a 503 to retry.
 */
export function checkingGraphClient(): GraphClient {
  return new GraphClient(optionalEnv('GRAPH_API_URL', DEFAULT_GRAPH_API_URL), {
    callsPerSecondPerPage: numberEnv('GRAPH_CALLS_PER_SECOND', 2),
    maxAttempts: 2,
    backoffBaseMs: numberEnv('GRAPH_BACKOFF_BASE_MS', 200),
    maxWaitMs: 2_000,
    requestTimeoutMs: 8_000,
  });
}

/**
 * Checks a Page access token with Graph before it is stored: `/me` must be page `pageId`, and one
 * conversation per platform (Messenger, and Instagram when the page has an account) must be
 * readable. Returns the page's name and Instagram account as Graph knows them. A refused token,
 * a missing permission or a token of another page is the caller's to fix (400); Graph down or
 * throttling is GraphUnavailable (503). The token is only sent to Graph, never logged.
 */
export async function checkPageToken(
  pageId: string,
  accessToken: string,
  graph: GraphClient = checkingGraphClient(),
): Promise<CheckedPage> {
  try {
    const owner = await graph.tokenOwner({ pageId, accessToken });
    if (owner.id !== pageId) throw new TokenOfAnotherPage(pageId);
    const instagramAccountId = owner.instagram_business_account?.id;
    await graph.probeConversations({ pageId, platform: 'messenger', accessToken });
    if (instagramAccountId) await graph.probeConversations({ pageId, platform: 'instagram', accessToken });
    return {
      pageName: owner.name ?? pageId,
      ...(instagramAccountId ? { instagramAccountId } : {}),
    };
  } catch (error) {
    throw asCheckError(error);
  }
}

/** A failed check as the domain error the caller is answered with. */
function asCheckError(error: unknown): unknown {
  if (error instanceof TokenOfAnotherPage) return error;
  if (!(error instanceof GraphApiError)) {
    // A network failure, a timeout or an answer Graph does not give: Graph is not usable now.
    return new GraphUnavailable(GRAPH_RETRY_AFTER_SECONDS);
  }
  switch (error.kind) {
    case 'token':
      return new PageTokenRejected(
        (error.subcode && TOKEN_SUBCODES[error.subcode]) || 'the access token is not valid',
      );
    case 'permission': {
      const permission = /\b((?:pages|instagram|business)_[a-z_]+)\b/.exec(error.message)?.[1];
      return new PagePermissionMissing(permission, error.code);
    }
    case 'retryable':
    case 'blocked':
      return new GraphUnavailable(GRAPH_RETRY_AFTER_SECONDS);
    default:
      // e.g. (#100) the object cannot be read with this token: not a usable token for this page.
      return new PageTokenRejected(`Graph error ${error.code} when reading the page`);
  }
}
