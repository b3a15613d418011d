import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { issuerKey, issuerKeyDir, issuerKeyFile, signWithIssuerKey } from '../infra/self-issuer.ts';
import { stackNameOf } from '../infra/stage-settings.ts';
import { signLocalToken } from './auth.ts';
import { DATA_DIR } from './local-stack.ts';

/**
 * Prints a JWT as the last line.
 * - `npm run token -- --org <org> --user <user>`: for the local API (`npm start`).
 * - `npm run token -- --stage dev --org <org> --user <user>`: for a deployed stage whose cdk.json
 *   says `jwtIssuer: "self"`, signed with the stage's key in .deploy/<stage>/; the issuer and
 *   audience come from `cdk deploy --outputs-file cdk-outputs.json` (or --issuer/--audience).
 */
const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'demo-org' },
    user: { type: 'string', default: 'demo-user' },
    expires: { type: 'string', default: '12h' },
    stage: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    outputs: { type: 'string', default: 'cdk-outputs.json' },
  },
});

async function stageToken(stage: string): Promise<string> {
  const outputs = existsSync(values.outputs)
    ? (JSON.parse(readFileSync(values.outputs, 'utf8')) as Record<string, Record<string, string>>)[
        stackNameOf(stage)
      ]
    : undefined;
  const issuer = values.issuer ?? outputs?.JwtIssuer;
  const audience = values.audience ?? outputs?.JwtAudience?.split(',')[0];
  if (!issuer || !audience)
    throw new Error(
      `No issuer/audience: deploy with --outputs-file ${values.outputs}, or pass --issuer and --audience`,
    );
  const dir = issuerKeyDir(stage);
  if (!existsSync(issuerKeyFile(dir)))
    throw new Error(`No signing key in ${dir}: was this stage deployed from here?`);
  return signWithIssuerKey(issuerKey(dir, `contact-sync-${stage}`), {
    issuer,
    audience,
    org: values.org,
    user: values.user,
    expiresIn: values.expires,
  });
}

console.log(
  values.stage
    ? await stageToken(values.stage)
    : await signLocalToken(DATA_DIR, { org: values.org, user: values.user, expiresIn: values.expires }),
);
