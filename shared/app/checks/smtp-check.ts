import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { fail, ok, type CheckResult, type HostCheck } from './check.ts';
import { isUnreachable } from './unreachable.ts';

/**
 * The SMTP relay answers: a 220 greeting, then EHLO, then QUIT. Nothing is sent and no
 * credentials are offered, so a doctor run never locks an account.
 */
export function smtpCheck(url: string, timeoutMs = 10_000): HostCheck {
  return {
    name: 'smtp',
    async run(): Promise<CheckResult[]> {
      const u = new URL(url);
      const secure = u.protocol === 'smtps:';
      const port = Number(u.port || (secure ? 465 : 587));
      const where = `${u.hostname}:${port}`;
      try {
        const ehlo = await converse(u.hostname, port, secure, timeoutMs);
        const starttls = /STARTTLS/i.test(ehlo);
        return [ok('smtp', `${where} answers${secure ? ' (TLS)' : starttls ? ', offers STARTTLS' : ''}`)];
      } catch (err) {
        const detail = `${where}: ${(err as Error).message}`;
        return [fail('smtp', detail, 'start the mail relay or fix SMTP_URL', isUnreachable(err))];
      }
    },
  };
}

function converse(host: string, port: number, secure: boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = secure ? tlsConnect({ host, port, servername: host }) : tcpConnect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    let buffer = '';
    let stage: 'greeting' | 'ehlo' = 'greeting';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      // A reply is complete at a line whose code is followed by a space ("250 OK"), not "250-".
      const lines = buffer.split('\r\n');
      const last = lines.at(-2);
      if (last === undefined || !/^\d{3} /.test(last)) return;
      const code = Number(last.slice(0, 3));
      if (stage === 'greeting') {
        if (code !== 220) return finish(new Error(`greeted with ${last.slice(0, 80)}`));
        stage = 'ehlo';
        buffer = '';
        socket.write('EHLO vigil-doctor\r\n');
        return;
      }
      if (code !== 250) return finish(new Error(`EHLO answered ${last.slice(0, 80)}`));
      const reply = buffer;
      socket.end('QUIT\r\n');
      finish(undefined, reply);
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('connection closed before EHLO was answered')));
    let settled = false;
    function finish(err: Error | undefined, reply = ''): void {
      if (settled) return;
      settled = true;
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(reply);
    }
  });
}
