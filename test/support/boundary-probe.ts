/**
 * Imports the config loader as a core would. test/db/boundary.test.ts runs it under the trap with
 * TIDEMARK_TRAP_PROBE naming this file as below the boundary: the import must fail, proving the trap live.
 */
await import('../../src/config/load.js');
process.stdout.write('not trapped\n');
