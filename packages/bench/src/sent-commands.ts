import { Redis, type Command } from 'ioredis';
import { NOT_COUNTED } from './command-stats.js';

type SendCommand = (this: Redis, command: Command, ...rest: unknown[]) => unknown;

let sent = 0;
let installed = false;

/**
 * Commands this process has sent to Redis through ioredis so far (every contender drives
 * ioredis, one copy of it), PING and INFO left out. What a client sends, unlike `INFO
 * commandstats`, which on Redis 7.0 also counts each call a script makes inside the server.
 * Counting starts on the first call.
 */
export function sentCommands(): number {
  if (!installed) {
    installed = true;
    const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
    const original = proto.sendCommand;
    // One wrapper for the whole process: a counter, nothing else, on every command's path.
    proto.sendCommand = function (this: Redis, command: Command, ...rest: unknown[]) {
      if (!NOT_COUNTED.has(command.name)) sent++;
      return original.call(this, command, ...rest);
    };
  }
  return sent;
}
