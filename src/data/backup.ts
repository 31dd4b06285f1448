// Shim: backup lives in ./backup/ now; this path stays importable until the shims go (issue 12, Session 3).
export { backup, checkBackupOptions, failedBackup } from './backup/index.js';
export type { BackupCoreOptions, BackupEvent, BackupFormat, BackupResult } from './backup/types.js';
export { ROW_SECURITY_OFF_SQL } from '../schema/catalog.js';
export { RecordCounter } from './backup/copy.js';
export { dataFileName, fileComponent } from './backup/files.js';
export { pgDumpMajor } from './backup/pg-dump.js';
