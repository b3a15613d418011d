/**
 * CLI: `npx tsx local/graph-sim/main.ts` starts the Graph API simulator with the demo page.
 *
 * Environment: GRAPH_SIM_PORT (default 4010), GRAPH_SIM_HOST (default 127.0.0.1),
 * GRAPH_SIM_LATENCY_MS (default 0), GRAPH_SIM_RATE_LIMIT (calls/s per page, default 2; "off" disables),
 * GRAPH_SIM_LIST_CURSORS (`keyset`, the default, or `offset`). Knobs: docs/graph-simulator.md.
 * It answers only a loopback `Host` at its port; bound elsewhere, name the host clients use in
 * ALLOWED_HOSTS (local/host-check.ts).
 */
import { demoPage } from './demo-data/generate-page.ts';
import { startGraphSimulator } from './server.ts';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const rateLimitRaw = process.env.GRAPH_SIM_RATE_LIMIT?.trim().toLowerCase();
const page = demoPage();
const sim = await startGraphSimulator({
  port: numberFromEnv('GRAPH_SIM_PORT', 4010),
  host: process.env.GRAPH_SIM_HOST || '127.0.0.1',
  latencyMs: numberFromEnv('GRAPH_SIM_LATENCY_MS', 0),
  rateLimitPerSecond:
    rateLimitRaw === 'off' || rateLimitRaw === 'null' ? null : numberFromEnv('GRAPH_SIM_RATE_LIMIT', 2),
  pages: [page],
  listCursors: process.env.GRAPH_SIM_LIST_CURSORS === 'offset' ? 'offset' : 'keyset',
});

console.log(`Graph API simulator listening on ${sim.url}`);
console.log(`  GRAPH_API_URL=${sim.baseUrl}`);
console.log(
  `  page ${page.id} "${page.name}" token ${page.accessToken}: ${page.conversations.messenger.length} Messenger, ${page.conversations.instagram.length} Instagram conversations`,
);
console.log(`  stats: GET ${sim.url}/__sim/stats  reset: POST ${sim.url}/__sim/reset`);
console.log(
  `  new messages: POST ${sim.url}/__sim/pages/${page.id}/new-messages {"platform":"messenger","count":5}`,
);

const shutdown = () => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
