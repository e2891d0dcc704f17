import { CONTENDERS } from '../contenders/index.js';
import type { ContenderSession } from '../contenders/types.js';
import { runLoad } from '../load.js';
import { waitUntil, type FromChild, type ToChild } from './protocol.js';

// A load process of `shardlock bench --clients P`, forked by forked-driver.ts: it connects
// the contenders itself, runs the slices it is sent and answers with what it measured.

const sessions: ContenderSession[] = [];
let running: AbortController | undefined;

function answer(message: FromChild): void {
  process.send?.(message);
}

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'connect':
      for (const name of message.contenders) {
        const contender = CONTENDERS.get(name);
        if (contender === undefined) throw new Error(`unknown contender ${name}`);
        sessions.push(await contender.connect(message.nodes, message.workload, message.connect));
      }
      answer({ type: 'connected' });
      return;
    case 'run': {
      running = new AbortController();
      await waitUntil(message.startAt);
      const result = await runLoad(sessions[message.contender]!, {
        ...message.spec,
        signal: running.signal,
      });
      running = undefined;
      answer({ type: 'result', result });
      return;
    }
    case 'abort':
      running?.abort();
      return;
    case 'close':
      await Promise.all(sessions.splice(0).map((session) => session.close()));
      answer({ type: 'closed' });
      process.disconnect();
      return;
  }
}

process.on('message', (message: ToChild) => {
  handle(message).catch((error: unknown) => {
    answer({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  });
});
// Ctrl-C reaches the whole process group: the parent stops the slice (an 'abort' message) and
// closes us in order, so the signal itself must not end this process.
process.on('SIGINT', () => undefined);
// The parent went away (it crashed or was killed): nothing to report to, close and end.
process.on('disconnect', () => {
  void Promise.all(sessions.splice(0).map((session) => session.close())).finally(() =>
    process.exit(0),
  );
});
