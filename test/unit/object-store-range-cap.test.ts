import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../shared/storage/object-store.ts';

test('readRange stops reading a body that runs past the range asked for (a hostile or broken store), and says so', async () => {
  let sent = 0;
  const endless = new Readable({
    read() {
      // Bounded so that a reader without the stop still ends.
      if (sent >= 64 * 1024 * 1024) return void this.push(null);
      sent += 64 * 1024;
      this.push(Buffer.alloc(64 * 1024));
    },
  });
  const client = { send: async () => ({ Body: endless, ContentLength: 1000 }), destroy() {} } as unknown as S3Client;
  const store = new S3ObjectStore(client);
  await assert.rejects(store.readRange('bucket-a', 'k.mp4', 0, 1000), (err: any) => {
    assert.equal(err.code, 'STORAGE_UNAVAILABLE');
    return true;
  });
  assert.ok(sent < 1024 * 1024, `read ${sent} bytes for a 1000-byte range`);
});
