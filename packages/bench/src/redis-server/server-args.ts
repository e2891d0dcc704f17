/** The PEM files a TLS server needs (the test harness makes them with openssl). */
export interface ServerTlsFiles {
  /** The CA certificate the server trusts (clients are not asked for one). */
  readonly ca: string;
  /** The server certificate. */
  readonly cert: string;
  /** The server's private key. */
  readonly key: string;
}

/** An ACL user with full access (`on >password ~* &* +@all`). */
export interface RedisUser {
  /** The ACL user name. */
  readonly name: string;
  /** Its password (stored by redis as a SHA-256; any characters are fine). */
  readonly password: string;
}

/** How a redis-server is configured, apart from its port and data folder. */
export interface ServerConfig {
  /** Sets `requirepass`, the password of the `default` user. */
  readonly password?: string;
  /** ACL users with full access; when given, the `default` user is switched off. */
  readonly users?: readonly RedisUser[];
  /** Serve TLS only, with these files; the plain TCP port is closed (`--port 0`). */
  readonly tls?: ServerTlsFiles;
  /** Extra command-line arguments; they win over the harness defaults except `logfile` and `loglevel`. */
  readonly args?: readonly string[];
}

/**
 * The redis-server command line for one test server: loopback only, no persistence, no
 * daemonizing, the data folder `dir`.
 * @param port - the port to serve on (the TLS port when `config.tls` is set)
 * @param dir - an empty folder the server may write to
 * @param config - password, users, TLS and extra arguments
 * @returns the arguments for `redis-server`, without the executable
 */
export function serverArgs(port: number, dir: string, config: ServerConfig = {}): string[] {
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push('--daemonize', 'no');
  if (config.tls === undefined) {
    args.push('--port', String(port));
  } else {
    const { ca, cert, key } = config.tls;
    args.push('--port', '0', '--tls-port', String(port));
    args.push('--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', ca);
    args.push('--tls-auth-clients', 'no');
  }
  if (config.password !== undefined) args.push('--requirepass', config.password);
  const users = config.users ?? [];
  for (const user of users) {
    args.push('--user', user.name, 'on', `>${user.password}`, '~*', '&*', '+@all');
  }
  // redis applies `user` lines after the rest of the config, so this wins over `requirepass`:
  // with `users`, nobody can log in as `default`, whatever `password` says.
  if (users.length > 0) args.push('--user', 'default', 'off');
  args.push(...(config.args ?? []));
  // Last, so `args` cannot hide it: readiness waits for the server's own notice-level
  // "Ready to accept connections" line on stdout.
  args.push('--logfile', '', '--loglevel', 'notice');
  return args;
}
