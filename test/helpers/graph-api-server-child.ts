// The child-process side of graph-api-server-process.ts: starts the in-process server
// here and answers the parent's few questions over IPC. It exits when the parent goes
// (the IPC channel closes), leaving no orphan.
import { startGraphApiServer, type GraphApiServerOptions } from './graph-api-server.ts';

type Ask = { id: number; op: 'video'; videoId: string } | { id: number; op: 'close' };

const opts = JSON.parse(process.argv[2] ?? '{}') as GraphApiServerOptions;
const server = await startGraphApiServer(opts);
process.send!({ ready: { base: server.base, pageId: server.pageId, apiVersion: server.apiVersion, token: server.token, chunkSize: server.chunkSize } });

process.on('message', (m: Ask) => {
  if (m.op === 'video') process.send!({ id: m.id, video: server.video(m.videoId) ?? null });
  else void server.close().then(() => process.send!({ id: m.id }, () => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
