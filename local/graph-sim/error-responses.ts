/** Graph error shapes the simulator answers with: `{error:{message,type,code,error_subcode?,fbtrace_id}}`. */

interface GraphErrorInit {
  status?: number;
  code: number;
  message: string;
  type?: string;
  subcode?: number;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code: number;
  readonly type: string;
  readonly subcode: number | undefined;

  constructor(init: GraphErrorInit) {
    super(init.message);
    this.status = init.status ?? 400;
    this.code = init.code;
    this.type = init.type ?? 'OAuthException';
    this.subcode = init.subcode;
  }
}

export const invalidParam = (message: string) => new GraphError({ code: 100, message: `(#100) ${message}` });

export const unsupportedGet = (id: string) =>
  new GraphError({
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  });

export const unknownPath = (path: string) =>
  new GraphError({ status: 404, code: 100, message: `Unknown path components: ${path}` });

export const nonexistingField = (field: string, nodeType: string) =>
  invalidParam(`Tried accessing nonexisting field (${field}) on node type (${nodeType})`);

export const messageDeleted = () => new GraphError({ code: 100, message: 'This message has been deleted' });

export const RATE_LIMIT_MESSAGES: Record<number, string> = {
  80001:
    '(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
  80002:
    '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
  80006:
    '(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
};

const FAULT_MESSAGES: Record<number, { message: string; subcode?: number }> = {
  1: { message: 'An unknown error occurred' },
  2: { message: 'An unexpected error has occurred. Please retry your request later.' },
  4: { message: '(#4) Application request limit reached' },
  10: { message: '(#10) Application does not have permission for this action' },
  17: { message: '(#17) User request limit reached' },
  32: { message: '(#32) Page request limit reached' },
  190: { message: 'Error validating access token: The session has been invalidated.', subcode: 467 },
  200: { message: '(#200) Requires pages_messaging permission to manage the object' },
  341: { message: '(#341) Application limit reached' },
  368: { message: '(#368) The action attempted has been deemed abusive or is otherwise disallowed' },
  613: { message: '(#613) Calls to this api have exceeded the rate limit.' },
  80001: { message: RATE_LIMIT_MESSAGES[80001] ?? '' },
  80002: { message: RATE_LIMIT_MESSAGES[80002] ?? '' },
  80006: { message: RATE_LIMIT_MESSAGES[80006] ?? '' },
};

export function faultError(code: number): GraphError {
  if (code === 500) return new GraphError({ status: 500, code: 1, message: 'An unknown error occurred' });
  const known = FAULT_MESSAGES[code];
  return new GraphError({
    code,
    message: known?.message ?? `(#${code}) Simulated error`,
    subcode: known?.subcode,
  });
}
