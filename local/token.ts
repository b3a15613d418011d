import { parseArgs } from 'node:util';
import { signLocalToken } from './auth.ts';
import { DATA_DIR } from './stack.ts';

/** `npm run token -- --org <org> --user <user>`: prints a JWT the local API accepts, as the last line. */
const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'demo-org' },
    user: { type: 'string', default: 'demo-user' },
    expires: { type: 'string', default: '12h' },
  },
});
const token = await signLocalToken(DATA_DIR, {
  org: values.org,
  user: values.user,
  expiresIn: values.expires,
});
console.log(token);
