import { analyzerFromEnv } from '../../shared/analyzer/from-env.ts';
import { ChunkInput } from '../../shared/schemas.ts';
import { processChunk } from '../../shared/sync/process-chunk.ts';

const analyzer = analyzerFromEnv();

/** Map iteration body "Process conversation chunk", reached only after the chunk's cancel check. */
export const handler = async (event: unknown) => processChunk(ChunkInput.parse(event), { analyzer });
