import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Where the store is and who Vigil is there (`S3_*` variables). */
export interface S3Connection {
  /** An S3-compatible store (MinIO); unset means AWS. @default undefined */
  endpoint: string | undefined;
  /** @default 'us-east-1' */
  region: string;
  /** Set both or neither; neither uses the SDK's default chain. @default undefined */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

export interface S3ClientOptions {
  /**
   * Tries per request, the first included; the SDK waits with jittered back-off between
   * them. Kept low because a failed job is retried by the queue anyway.
   * @default 3
   */
  maxAttempts?: number;
  /** Longest wait for the TCP (and TLS) connection. @default 5_000 */
  connectionTimeoutMs?: number;
  /**
   * Longest silence on an open socket, in the middle of a body too, before the request
   * fails. Not a limit on the whole request: a large download may take as long as it needs.
   * @default 60_000
   */
  socketTimeoutMs?: number;
  /** Connections kept open to the store; parallel part uploads share them. @default 16 */
  maxSockets?: number;
}

/**
 * An S3 client for AWS or an S3-compatible store (MinIO, Ceph, s3rver).
 *
 * - Path-style URLs: S3-compatible stores rarely have a wildcard DNS name per bucket.
 * - Checksums only where an operation requires them. The SDK's default since 3.729 adds
 *   CRC32 to every upload and sends streamed bodies as `aws-chunked` with a trailing
 *   checksum; stores that do not know that encoding store the chunk framing as the object's
 *   bytes (s3rver does, silently) or refuse it, and some omit the checksums the SDK then
 *   expects on downloads.
 * - Credentials only when configured; otherwise the SDK's default chain (instance roles).
 */
export function createS3Client(config: S3Connection, opts: S3ClientOptions = {}): S3Client {
  const maxSockets = opts.maxSockets ?? 16;
  const clientConfig: S3ClientConfig = {
    region: config.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts ?? 3,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
      socketTimeout: opts.socketTimeoutMs ?? 60_000,
      httpAgent: { keepAlive: true, maxSockets },
      httpsAgent: { keepAlive: true, maxSockets },
    },
  };
  if (config.endpoint !== undefined) clientConfig.endpoint = config.endpoint;
  if (config.accessKeyId !== undefined && config.secretAccessKey !== undefined) {
    clientConfig.credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
  }
  return new S3Client(clientConfig);
}
