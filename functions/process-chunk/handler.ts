import { analyzerFromEnv } from '../../shared/analyzer/from-env.ts';
import { ChunkInput } from '../../shared/schemas.ts';
import { processChunk } from '../../shared/sync/process-chunk.ts';
import { workerHandler } from '../../shared/worker.ts';

const analyzer = analyzerFromEnv();

/** Map iteration body "Process conversation chunk", reached only after the chunk's cancel check. */
export const handler = workerHandler(ChunkInput, (input) => processChunk(input, { analyzer }));
