import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerTlsFiles } from '@shardlock/bench/redis-server';
import { HarnessError } from './errors.js';

const run = promisify(execFile);

/** Paths of the files a TLS test server and its clients need. */
export interface TlsFiles extends ServerTlsFiles {
  /** The temp folder holding them all; remove it when done. */
  readonly dir: string;
  /** The CA certificate (PEM): give it to clients as `tls.ca` and to the server as its CA. */
  readonly ca: string;
  /** The server certificate (PEM), signed by the CA, for `IP:127.0.0.1` and `DNS:localhost`. */
  readonly cert: string;
  /** The server's private key (PEM, unencrypted). */
  readonly key: string;
}

// P-256 keys: generated in milliseconds, where RSA-2048 takes a noticeable fraction of a second.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' && stderr !== '' ? `: ${stderr.trim()}` : '';
    throw new HarnessError('ERR_OPENSSL', `openssl ${args[0] ?? ''} failed${detail}`, {
      cause: error,
    });
  }
}

/**
 * Makes a throwaway CA and a server certificate it signs, valid for 2 days, for
 * `127.0.0.1` and `localhost`, with openssl in a new temp folder.
 * @returns the paths; the caller removes `dir` when done
 * @throws {HarnessError} `ERR_OPENSSL` when an openssl command fails
 * @example
 * const files = await makeSelfSignedCert();
 * const node = await RedisNode.start({ tls: files });
 * const client = new Redis(node.url, { tls: { ca: readFileSync(files.ca) } });
 */
export async function makeSelfSignedCert(): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'shardlock-tls-'));
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  const caSubject = ['-subj', '/CN=shardlock test CA'];
  const caExt = [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ];
  await openssl([
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    ...caSubject,
    ...caExt,
  ]);
  await openssl(['req', '-new', ...NEW_KEY, '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(
    ext,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      '',
    ].join('\n'),
  );
  const sign = ['-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial'];
  await openssl(['x509', ...sign, '-out', cert, '-days', '2', '-extfile', ext]);
  return { dir, ca, cert, key };
}
