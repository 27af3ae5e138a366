import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Paths requested so far. */
  requests: string[];
  /** Asserts nothing reached the server, then that it was listening all along (one control request). */
  assertUntouched(): Promise<void>;
  close(): void;
}

/** A local HTTP server that answers 404 and records every request: bait for playlists that fetch URLs. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    async assertUntouched() {
      assert.deepEqual(requests, []);
      await fetch(`${base}/control`);
      assert.deepEqual(requests, ['/control'], 'the server was listening all along');
    },
    close: () => server.close(),
  };
}
