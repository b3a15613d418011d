import { analyzerFromEnv } from '#shared/analyzer/from-env.ts';
import { ChunkInput } from '#shared/schemas.ts';
import { runWorkerTurn } from '#shared/sync/chunk-worker.ts';
import { workerHandler } from '#shared/worker.ts';

const analyzer = analyzerFromEnv();

/** Map iteration body "Process a staged chunk", reached only after the turn's cancel check. */
export const handler = workerHandler(ChunkInput, (input) => runWorkerTurn(input, { analyzer }));
