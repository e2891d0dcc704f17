/**
 * The option key under which the simulator hands a client its {@link Runtime}. A symbol, so
 * no plain options object can set it and `checkKnownKeys` never sees it.
 */
export const RUNTIME: unique symbol = Symbol('shardlock.runtime');
