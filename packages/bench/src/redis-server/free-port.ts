import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1: listens on port 0, reads the port, closes.
 *
 * The port is only free at the moment it is returned; another process may take it before the
 * caller binds it, so callers must be ready to retry (see `RedisNode.start`).
 *
 * @returns a port number in the ephemeral range
 * @throws the listen error, if the loopback interface cannot be bound
 * @example
 * const port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((error) => {
        if (error !== undefined) reject(error);
        else if (port === 0)
          reject(new Error(`freePort: unexpected address ${JSON.stringify(address)}`));
        else resolve(port);
      });
    });
  });
}
