/** The public backup entry points (see api/migrate.ts for what this folder is). */
export { backup } from '../data/backup.js';
export type { BackupOptions, BackupResult, BackupFormat, BackupEvent } from '../data/backup.js';
export { verifyBackup } from '../data/verify.js';
export type { VerifyResult, VerifyProblem } from '../data/verify.js';
export type { Manifest, ManifestTable } from '../data/manifest.js';
