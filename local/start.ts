import { numberEnv } from '#shared/config.ts';
import { ensureConsoleBuilt, WEB_DIST } from './console-server.ts';
import { startLocalStack } from './local-stack.ts';

/** `npm start`: the whole system on this machine. Every port is set by an env var, loopback only. */
const started = Date.now();
// How the console signs in: the dev token (default) or at the local OpenID provider.
const signIn = process.env.LOCAL_SIGN_IN || 'dev-token';
if (signIn !== 'dev-token' && signIn !== 'oidc') {
  console.error(`LOCAL_SIGN_IN must be dev-token or oidc, not ${JSON.stringify(signIn)}`);
  process.exit(1);
}
// The console is built (only when web/ changed) while the stack starts; it is served from web/dist.
const consoleBuilt = ensureConsoleBuilt(console.log).then(
  () => true,
  (error: Error) => {
    console.error(`The web console could not be built, so / serves nothing: ${error.message}`);
    return false;
  },
);
const stack = await startLocalStack({
  port: numberEnv('PORT', 3000),
  dynamoDbPort: numberEnv('DYNAMODB_PORT', 8000),
  sfnPort: numberEnv('SFN_PORT', 8083),
  graphSimPort: numberEnv('GRAPH_SIM_PORT', 4010),
  graphApiUrl: process.env.GRAPH_API_URL || undefined,
  graphSimLatencyMs: numberEnv('GRAPH_SIM_LATENCY_MS', 0),
  webRoot: WEB_DIST,
  oidcPort: numberEnv('OIDC_PORT', 3001),
  consoleSignIn: signIn,
  logEvents: true,
}).catch((error: Error) => {
  console.error(`Local stack failed to start: ${error.message}`);
  process.exit(1);
});

console.log(
  `DynamoDB Local     ${stack.dynamoDbEndpoint}  (behind the IAM checks and the transaction conflict model${
    stack.dynamoConflicts.txHoldMs === null ? ': off' : `, hold ${stack.dynamoConflicts.txHoldMs} ms`
  })`,
);
console.log(
  `Step Functions     ${stack.sfnEndpoint}  (state machine synthesized from infra/; KMS on the same endpoint)`,
);
for (const machine of stack.machines) console.log(`State machine      ${machine.arn}`);
console.log(`Graph API          ${stack.graphApiUrl}${stack.graph ? '  (simulator)' : ''}`);
console.log(
  `Events             ${stack.apiUrl}/__local/events  (lifecycle events and execution status changes)`,
);
if (stack.oidc)
  console.log(
    `OpenID provider    ${stack.oidc.issuer}  (client ${stack.oidc.clientId}; demo users alice, bob, carol)`,
  );
console.log(`Token              npm run token -- --org demo-org --user you@example.com`);
if (await consoleBuilt)
  console.log(
    `Web console        ${stack.apiUrl}/  (open it in a browser; ${
      signIn === 'oidc'
        ? 'sign in at the OpenID provider'
        : 'it signs in as demo-org; LOCAL_SIGN_IN=oidc for the provider'
    })`,
  );
console.log(`Contact Sync API ready at ${stack.apiUrl} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping the local stack...');
    // stop() fails when a call was denied by the template's IAM policies (iam/local-iam.ts).
    void stack.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(error.message);
        process.exit(1);
      },
    );
  });
}
