import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string): string =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources, so `pnpm test` needs no build step.
const alias = {
  '@shardlock/ring': src('ring'),
  '@shardlock/core/internal': fileURLToPath(
    new URL('./packages/core/src/internal.ts', import.meta.url),
  ),
  '@shardlock/core': src('core'),
  '@shardlock/bench/redis-server': fileURLToPath(
    new URL('./packages/bench/src/redis-server/index.ts', import.meta.url),
  ),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: { alias },
        test: {
          // The simulator: no I/O, a virtual clock. It runs before the real-process tests, so
          // its CPU does not disturb their timing.
          name: 'sim',
          include: ['test/sim/sim-*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Setting exclude drops vitest's default, so node_modules (where test/ links the
          // packages, whose own tests run in 'unit') must be named again.
          exclude: ['**/node_modules/**', 'test/sim/sim*.test.ts', 'test/sim/replay.test.ts'],
          sequence: { groupOrder: 1 },
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Fault tests kill, pause and restart servers and measure leases: on a 2-core machine
          // running files one at a time keeps their timing honest.
          fileParallelism: false,
        },
      },
      // `pnpm sim` only (scripts/sim.mjs): as many schedules as asked for.
      ...(process.env.SHARDLOCK_SIM_LONG === '1'
        ? [{ resolve: { alias }, test: { name: 'sim-long', include: ['test/sim/sim.test.ts'] } }]
        : []),
      // `pnpm chaos` only (scripts/chaos.mjs): the long soak is no part of `pnpm test`.
      ...(process.env.SHARDLOCK_CHAOS_SOAK === '1'
        ? [
            {
              resolve: { alias },
              test: {
                name: 'chaos-soak',
                include: ['test/chaos/soak.chaos.ts'],
                globalSetup: ['test/harness/global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
