/** Meta Graph API errors, classified as Meta's Graph API error reference describes them. */
export type GraphErrorKind = 'retryable' | 'token' | 'permission' | 'blocked' | 'invalid';

const RETRYABLE = new Set([1, 2, 4, 17, 32, 341, 613, 80001, 80002, 80006]);

export function classifyGraphError(code: number, httpStatus: number): GraphErrorKind {
  if (RETRYABLE.has(code) || httpStatus >= 500) return 'retryable';
  if (code === 190) return 'token';
  if (code === 368) return 'blocked';
  if (code === 10 || (code >= 200 && code <= 299)) return 'permission';
  return 'invalid';
}

export const TOKEN_SUBCODES: Record<number, string> = {
  458: 'the app is not installed',
  459: 'the account is checkpointed',
  460: 'the password was changed',
  463: 'the access token expired',
  464: 'the user is unconfirmed',
  467: 'the access token is invalid',
  492: 'the user has no role on the Page',
};

export class GraphApiError extends Error {
  readonly kind: GraphErrorKind;

  constructor(
    readonly code: number,
    readonly subcode: number | undefined,
    readonly httpStatus: number,
    graphMessage: string,
  ) {
    super(`Graph API error ${code}${subcode ? `/${subcode}` : ''}: ${graphMessage}`);
    this.name = 'GraphApiError';
    this.kind = classifyGraphError(code, httpStatus);
  }

  /** A message a user can act on, free of tokens and internals. */
  userMessage(): string {
    switch (this.kind) {
      case 'token': {
        const why = (this.subcode && TOKEN_SUBCODES[this.subcode]) || 'the access token is no longer valid';
        return `Facebook rejected the page's access token (${why}): reconnect the page and sync again.`;
      }
      case 'permission': {
        // Graph names the permission in its message, e.g. "(#200) Requires pages_messaging permission".
        const permission = /\b((?:pages|instagram|business)_[a-z_]+)\b/.exec(this.message)?.[1];
        const which = permission ? `${permission}, ` : '';
        return `The page is missing a permission the sync needs (${which}Graph error ${this.code}): reconnect the page and grant it.`;
      }
      case 'blocked':
        return 'Facebook has temporarily blocked requests for this page (policy block 368). Try again later.';
      default:
        return `Facebook returned an error (Graph error ${this.code}).`;
    }
  }
}
