import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb.ts';
import { freePort } from '../../local/local-stack.ts';

/** The local addresses listening on `port`, from the kernel's socket tables (IPv4 and IPv6). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // state 0A is LISTEN
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
      .map((fields) => String(fields[1]).split(':')[0] as string),
  );
}
/** 127.0.0.1 as /proc/net/tcp writes it, alone or IPv4-mapped in /proc/net/tcp6. */
const LOOPBACK = /^(0100007F|0000000000000000FFFF00000100007F)$/;

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });

const hasCompiler = (() => {
  try {
    execFileSync('javac', ['-version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

let engine: DynamoDbLocal;
let port: number;
beforeAll(async () => {
  port = await freePort();
  engine = await startDynamoDbLocal(port);
}, 120_000);
afterAll(() => engine?.stop());

describe('DynamoDB Local on this machine only', () => {
  it('listens on 127.0.0.1 only wherever Java has a compiler (this machine: javac present)', () => {
    const addresses = listeningAddresses(port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(engine.loopbackOnly).toBe(hasCompiler);
    if (engine.loopbackOnly)
      expect(
        addresses.every((a) => LOOPBACK.test(a)),
        addresses.join(),
      ).toBe(true);
    else
      expect(
        addresses.some((a) => !LOOPBACK.test(a)),
        addresses.join(),
      ).toBe(true);
  });

  it("accepts connections on loopback, and on this machine's other addresses only when it could not bind to loopback", async () => {
    expect(await accepts('127.0.0.1', port)).toBe(true);
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => a?.address as string);
    for (const address of others) expect(await accepts(address, port), address).toBe(!engine.loopbackOnly);
  });
});
