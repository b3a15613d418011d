import path from 'node:path';
import type { Page } from 'playwright-core';
import { routePath } from '#shared/api/routes.ts';
import { ensureConsoleBuilt } from '../../local/console-server.ts';
import { ROOT, startLocalStack } from '../../local/local-stack.ts';
import {
  eventually,
  holdNextRequest,
  launchChromium,
  primaryButton,
  primaryLabel,
  syncedShown,
} from './browser.ts';

/**
 * `npm run screenshots`: the console's four states on the demo page ("My Business Page", 347
 * Messenger + 150 Instagram conversations), taken in headless Chromium against a fresh embedded
 * stack and written to docs/console-*.png for the web console doc (docs/web-console.md).
 */
const NAME = 'My Business Page';
const shot = (tab: Page, file: string) =>
  tab
    .screenshot({ path: path.join(ROOT, 'docs', file), animations: 'disabled' })
    .then(() => console.log(`docs/${file}`));

process.env.ANALYZER_LATENCY_MS ??= '150';
const webRoot = await ensureConsoleBuilt(console.log);
const stack = await startLocalStack({ port: 0, sfnPort: 0, graphSimPort: 0, webRoot });
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 480 }, deviceScaleFactor: 1 });
  const tab = await context.newPage();
  await tab.goto(`${stack.apiUrl}/`);
  await eventually('the idle card', async () => {
    if ((await primaryLabel(tab, NAME)) !== 'Sync') throw new Error('not idle');
  });
  await shot(tab, 'console-1-idle.png');

  await primaryButton(tab, NAME).click();
  await eventually('a third of the sync', async () => {
    const progress = Number(
      await tab.getByRole('progressbar').getAttribute('aria-valuenow', { timeout: 1000 }),
    );
    if (!(progress >= 30)) throw new Error(`progress ${progress}`);
    await syncedShown(tab, NAME);
  });
  await tab.mouse.move(0, 0);
  await shot(tab, 'console-2-syncing.png');

  const hold = await holdNextRequest(tab, routePath('cancelSync'));
  await primaryButton(tab, NAME).click();
  await hold.arrived;
  await shot(tab, 'console-3-stopping.png');
  await hold.release();

  await tab.getByText(`Sync cancelled for ${NAME}`, { exact: true }).waitFor({ timeout: 60_000 });
  await eventually('the cancelled card', async () => {
    if ((await primaryLabel(tab, NAME)) !== 'Sync') throw new Error('not idle yet');
  });
  await tab.mouse.move(0, 0);
  await shot(tab, 'console-4-cancelled.png');
} finally {
  await browser.close();
  await stack.stop();
}
