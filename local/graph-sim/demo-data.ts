/** Kept for importers outside local/ and test/local/: the demo data lives in demo-data/, the PRNG in local/prng.ts. */
export { hash32, mulberry32, type Rng } from '../prng.ts';
export { conversationCustomer } from './demo-data/conversation-basics.ts';
export { customerProfile } from './demo-data/customer-profile.ts';
export { demoPage, type GeneratePageOptions, generatePage } from './demo-data/generate-page.ts';
export { graphTime, parseGraphTimeSeconds, REFERENCE_DATE } from './demo-data/graph-time.ts';
export { decodeMessageId, messageId } from './demo-data/ids.ts';
export { addedCustomerMessage, conversationMessages } from './demo-data/messages.ts';
export * from './demo-data/sim-types.ts';
