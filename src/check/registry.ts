import type { Rule } from './rule.js';
import { rule as alembicVersionContamination } from './rules/alembic-version-contamination.js';
import { rule as appliedMissing } from './rules/applied-missing.js';
import { rule as branchLabelConflict } from './rules/branch-label-conflict.js';
import { rule as checksumDrift } from './rules/checksum-drift.js';
import { rule as crossServiceReference } from './rules/cross-service-reference.js';
import { rule as cycle } from './rules/cycle.js';
import { rule as duplicateId } from './rules/duplicate-id.js';
import { rule as foreignLedgerRows } from './rules/foreign-ledger-rows.js';
import { rule as gapInSequence } from './rules/gap-in-sequence.js';
import { rule as illegalRevisionId } from './rules/illegal-revision-id.js';
import { rule as missingParent } from './rules/missing-parent.js';
import { rule as mixedIdFormat } from './rules/mixed-id-format.js';
import { rule as multipleHeads } from './rules/multiple-heads.js';
import { rule as naming } from './rules/naming.js';
import { rule as pendingBeforeApplied } from './rules/pending-before-applied.js';
import { rule as schemaDrift } from './rules/schema-drift.js';
import { rule as sumMismatch } from './rules/sum-mismatch.js';
import { rule as unownedObject } from './rules/unowned-object.js';

/** Every rule, in the order they run. Ids are stable forever: never rename one. */
export const RULES: readonly Rule[] = [
  duplicateId,
  missingParent,
  cycle,
  illegalRevisionId,
  branchLabelConflict,
  multipleHeads,
  crossServiceReference,
  mixedIdFormat,
  naming,
  gapInSequence,
  sumMismatch,
  checksumDrift,
  appliedMissing,
  pendingBeforeApplied,
  foreignLedgerRows,
  unownedObject,
  alembicVersionContamination,
  schemaDrift,
];
