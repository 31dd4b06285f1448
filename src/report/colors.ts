import { isatty } from 'node:tty';
import picocolors from 'picocolors';

/**
 * Colour only when stdout is a terminal (DESIGN §3): picocolors on its own also colours under `CI`,
 * which puts escape codes into logs and captured output. NO_COLOR wins; FORCE_COLOR forces.
 */
const enabled = !('NO_COLOR' in process.env) && ('FORCE_COLOR' in process.env || (isatty(1) && process.env.TERM !== 'dumb'));

export const pc = picocolors.createColors(enabled);
