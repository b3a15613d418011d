import { hash32 } from '../../prng.ts';

/**
 * The ids of the demo data, as Graph's look: distinct per page (derived from the page's PRNG
 * seed) and per index, far apart for consecutive indexes.
 */

/**
 * A bijection of `index` onto [base, base + modulus): `mult` is an odd prime not dividing the
 * modulus, so distinct indexes (< modulus) always give distinct ids.
 */
function permutedId(index: number, mult: bigint, offset: bigint, modulus: bigint, base: bigint): string {
  return (base + ((BigInt(index) * mult + offset) % modulus)).toString();
}

// Multipliers: products of primes other than 2, 3 and 5, so coprime with every modulus below; large
// enough that consecutive indexes land far apart.
const P1 = 2654435761n * 1_000_003n;
const P2 = 2246822519n * 999_983n;
const P3 = 3266489917n * 1_000_033n;

/** Each kind of numeric id: its multiplier, the scale of its per-page offset, its range. */
const ID_SPACES = {
  /** Messenger's page-scoped user ids: 16 digits. */
  psid: { mult: P1, scale: 999_331n, modulus: 4_000_000_000_000_000n, base: 5_000_000_000_000_000n },
  /** Instagram-scoped user ids: 17 digits. */
  igsid: { mult: P3, scale: 999_611n, modulus: 80_000_000_000_000_000n, base: 10_000_000_000_000_000n },
  /** Messenger threads: 15 digits (after `t_`). */
  thread: { mult: P2, scale: 1_000_211n, modulus: 900_000_000_000_000n, base: 100_000_000_000_000n },
} as const;

/** The `index`th id of a kind for the page whose PRNG seed is `pageSeed`. */
function idOf(kind: keyof typeof ID_SPACES, pageSeed: number, index: number): string {
  const { mult, scale, modulus, base } = ID_SPACES[kind];
  return permutedId(index, mult, BigInt(hash32(pageSeed, kind)) * scale, modulus, base);
}

export const psidFor = (pageSeed: number, index: number) => idOf('psid', pageSeed, index);
export const igsidFor = (pageSeed: number, index: number) => idOf('igsid', pageSeed, index);
export const messengerThreadId = (pageSeed: number, index: number) => `t_${idOf('thread', pageSeed, index)}`;

export function instagramThreadId(igAccountId: string, igsid: string): string {
  return Buffer.from(`ig_conversation:1:IGMessageThread:${igAccountId}:${igsid}`).toString('base64url');
}

/** The page's Instagram account id when none is given: 17 digits, from the page's PRNG seed. */
export function instagramAccountIdFor(pageSeed: number): string {
  return permutedId(hash32(pageSeed, 'ig-account') % 1_000_000, 1n, 0n, 1_000_000n, 17_841_400_000_000_000n);
}

/** Message ids encode their conversation and position (0 = oldest), so the simulator can resolve them. */
export function messageId(conversationId: string, positionFromOldest: number): string {
  return `m_${Buffer.from(`${conversationId}|${positionFromOldest}`).toString('base64url')}`;
}

/** Inverse of `messageId`; null for anything else. */
export function decodeMessageId(id: string): { conversationId: string; positionFromOldest: number } | null {
  if (!/^m_[A-Za-z0-9_-]+$/.test(id)) return null;
  const decoded = Buffer.from(id.slice(2), 'base64url').toString('utf8');
  const match = /^(.+)\|(\d{1,6})$/.exec(decoded);
  if (!match?.[1] || !match[2]) return null;
  return { conversationId: match[1], positionFromOldest: Number(match[2]) };
}
