import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3TestServer {
  endpoint: string;
  /** For `loadConfig`: the server's address and the credentials it checks signatures with. */
  env: { S3_ENDPOINT: string; S3_ACCESS_KEY_ID: string; S3_SECRET_ACCESS_KEY: string; S3_REGION: string };
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

// s3rver's fixed account; it verifies request signatures against it.
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

// Runs in the child. @20minutes/s3rver, the maintained fork of s3rver (3.x lacks
// UploadPartCopy), still makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3
// offers only through its legacy provider: hence a child process started with
// --openssl-legacy-provider, rather than the server inside the test process. The child also
// exits when the test process dies (the IPC channel closes), leaving no orphan. The fork
// checks V4 signatures, and its canonical request differs from the SDK's, so it is told to
// accept a mismatch; the access key must still be its own.
const CHILD = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2], allowMismatchedSignatures: true });
server.run().then(
  (addr) => process.send({ port: addr.port }),
  (err) => { console.error(err); process.exit(1); },
);
process.on('disconnect', () => process.exit(0));
`;

export interface S3ServerOptions {
  /**
   * The folder in which the server makes its store folder. s3rver keeps each object as a
   * folder of three files; a benchmark that must not count that storage's cost against the
   * client can put it on a tmpfs. @default os.tmpdir()
   */
  parentDir?: string;
}

/**
 * A real S3-protocol server (@20minutes/s3rver) on 127.0.0.1 and a free port, storing into a fresh
 * temporary directory. One per test file; use random bucket names within it.
 */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3TestServer> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'vigil-s3-'));
  const s3rverPath = createRequire(import.meta.url).resolve('@20minutes/s3rver');
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD, s3rverPath, dir], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('s3rver did not start within 15 s')), 15_000);
      child.once('message', (m: { port: number }) => (clearTimeout(timer), resolve(m.port)));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`s3rver exited with ${code}: ${stderr}`))));
    });
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: ACCESS_KEY, S3_SECRET_ACCESS_KEY: SECRET_KEY, S3_REGION: 'us-east-1' },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
