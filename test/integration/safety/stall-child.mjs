// A lock client in its own process, for tests that stop the whole process with SIGSTOP (a GC
// pause, a VM freeze): plain JavaScript over the built @shardlock/core, driven over IPC.
import { LockClient } from '../../../packages/core/dist/index.js';

let client;
const reply = (message) => process.send(message);

process.on('message', async (message) => {
  try {
    if (message.type === 'start') {
      client = new LockClient({ nodes: message.nodes, ...message.options });
      client.on('nodeError', () => undefined);
      client.on('backgroundError', () => undefined);
      // One grant and release first: connected, and the script loaded on the node.
      await (await client.acquire(`${message.warmKey}`)).release();
      reply({ type: 'started' });
    } else if (message.type === 'acquire') {
      const pending = client.acquire(message.key, { ttl: message.ttl, retry: message.retry });
      // By now the op has left in its batch (flushed at the end of the tick that sent it).
      setTimeout(() => reply({ type: 'sent' }), 20);
      let lock;
      try {
        lock = await pending;
      } catch (error) {
        reply({ type: 'result', ok: false, code: error.code ?? String(error) });
        return;
      }
      // The holder's first look at its lock (after a stop that came in between, if any).
      if (message.stopAfterGrant) process.kill(process.pid, 'SIGSTOP');
      reply({
        type: 'result',
        ok: true,
        fence: String(lock.fence),
        valid: lock.isValid(),
        remaining: lock.deadline - performance.now(),
      });
    } else if (message.type === 'close') {
      await client.close();
      process.disconnect();
    }
  } catch (error) {
    reply({ type: 'error', message: String(error?.stack ?? error) });
  }
});
