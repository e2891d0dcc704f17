import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const PING = '*1\r\n$4\r\nPING\r\n';
// A server that answers PING at all is up: +PONG, or -NOAUTH / -ERR when it wants a login first.
// -LOADING and -BUSY mean it is not ready to serve yet.
const UP_REPLY = /^(?:\+PONG|-NOAUTH|-ERR)/;

/** Where and how to probe a redis-server. */
export interface ProbeTarget {
  /** Host to connect to. */
  readonly host: string;
  /** Port to connect to. */
  readonly port: number;
  /** Probe over TLS (the certificate is not verified: the probe only asks whether it is up). */
  readonly tls: boolean;
}

/**
 * Sends one raw RESP `PING` and reads the first reply line. Never rejects.
 * @param target - where to connect
 * @param timeoutMs - how long to wait for a reply, in milliseconds
 * @returns true if the server answered as a server that is up and serving
 */
export function pingOnce(target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const options = { host: target.host, port: target.port };
    const socket = target.tls
      ? tlsConnect({ ...options, rejectUnauthorized: false }, () => socket.write(PING))
      : netConnect(options, () => socket.write(PING));
    let received = '';
    const finish = (up: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => {
      finish(false);
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) finish(UP_REPLY.test(received));
    });
    socket.on('error', () => {
      finish(false);
    });
    socket.on('close', () => {
      finish(false);
    });
  });
}
