import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FacebookOptions } from '../../services/uploader/facebook-client.ts';
import type { GraphApiServer, GraphApiServerOptions, GraphVideo } from './graph-api-server.ts';

/**
 * The Graph API test server (graph-api-server.ts) in a child process of its own, as a real
 * remote server is: its multipart parsing and SHA-256 of every byte then run on their own
 * event loop and core instead of competing with the process under test. For the bench;
 * the tests keep the in-process server, whose fault injection and request records they read
 * synchronously. Only what the bench needs crosses the IPC channel: the address, the
 * credentials and a video's state.
 */
export interface GraphApiServerProcess extends Pick<GraphApiServer, 'base' | 'pageId' | 'apiVersion' | 'token' | 'chunkSize' | 'clientOptions'> {
  /** The child's process id (for CPU accounting). */
  pid: number;
  video(id: string): Promise<GraphVideo | undefined>;
  close(): Promise<void>;
}

type Ready = Pick<GraphApiServer, 'base' | 'pageId' | 'apiVersion' | 'token' | 'chunkSize'>;
type Answer = { ready: Ready } | { id: number; video?: GraphVideo | null };

const CHILD = fileURLToPath(new URL('./graph-api-server-child.ts', import.meta.url));

export async function startGraphApiServerProcess(opts: GraphApiServerOptions = {}): Promise<GraphApiServerProcess> {
  let stderr = '';
  const child: ChildProcess = fork(CHILD, [JSON.stringify(opts)], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const pending = new Map<number, (a: Answer) => void>();
  let ready: Ready;
  try {
    ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Graph API server process did not start within 15 s')), 15_000);
      child.on('message', (a: Answer) => {
        if ('ready' in a) return void (clearTimeout(timer), resolve(a.ready));
        pending.get(a.id)?.(a);
        pending.delete(a.id);
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the Graph API server process exited with ${code}: ${stderr}`))));
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let nextId = 0;
  const ask = (msg: object) =>
    new Promise<Answer>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`the Graph API server process is gone: ${stderr}`));
      const id = ++nextId;
      pending.set(id, resolve);
      child.send({ id, ...msg });
    });
  return {
    ...ready,
    pid: child.pid!,
    clientOptions: (extra: Partial<FacebookOptions> = {}) => ({ baseUrl: ready.base, apiVersion: ready.apiVersion, pageId: ready.pageId, accessToken: ready.token, ...extra }),
    video: async (videoId) => {
      const a = await ask({ op: 'video', videoId });
      return ('video' in a ? a.video : undefined) ?? undefined;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      await ask({ op: 'close' }).catch(() => child.kill('SIGKILL'));
      await exited;
    },
  };
}
