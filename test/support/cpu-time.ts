/**
 * This process's CPU time in milliseconds (user + system). Speed checks in unit tests measure it rather
 * than the wall clock: `npm test` runs files two at a time next to database tests, and on a loaded
 * machine the wall clock counts the time spent waiting for a core, which says nothing about the code.
 */
export function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
