declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    allowMismatchedSignatures?: boolean;
    port?: number;
    address?: string;
    directory: string;
    silent?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }

  /** The S3 emulator's server (only what the embedded stack uses). */
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}

declare module 's3rver/lib/models/account.js' {
  /** s3rver's registry of access keys. */
  export default class AWSAccount {
    static registry: Map<string, AWSAccount>;
    static DUMMY_ACCOUNT: AWSAccount;
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
}
