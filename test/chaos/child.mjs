// A child process of the chaos checker: runs lock clients and applies membership changes
// that the parent sends over IPC, reporting grants and failures back in batches.
import { startClients } from './client-loop.mjs';

let run;
let grants = [];
let failures = [];
const flush = () => {
  if (grants.length > 0 || failures.length > 0) process.send({ type: 'records', grants, failures });
  grants = [];
  failures = [];
};
const timer = setInterval(flush, 100);

process.on('message', async (message) => {
  try {
    if (message.type === 'start') {
      run = startClients(message.config, {
        grant: (g) => grants.push(g),
        failure: (f) => failures.push(f),
      });
      process.send({ type: 'started' });
    } else if (message.type === 'addNode') {
      await run.addNode(message.spec);
    } else if (message.type === 'removeNode') {
      await run.removeNode(message.id);
    } else if (message.type === 'stop') {
      await run.stop();
      clearInterval(timer);
      flush();
      process.send({ type: 'stopped' });
      process.disconnect();
    }
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
});
