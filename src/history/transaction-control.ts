import { TidemarkError } from '../errors.js';
import { escapeControl } from '../sql/ident.js';
import type { SqlStatement, StatementNode } from './sql-statements.js';

/**
 * "One transaction per migration" checked before anything runs (issue 11 §2), on the parse tree of
 * every statement. Pure: the caller splits the file and passes each node in file order.
 *
 * Refused in every migration:
 * - statements that start, end or escape a transaction: BEGIN, START TRANSACTION, COMMIT/END,
 *   ROLLBACK/ABORT (also AND CHAIN), PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED. In a transactional
 *   migration they would commit part of it, or throw away statements tidemark then reports applied. In
 *   a no-transaction migration each statement commits on its own and tidemark records the outcome
 *   after the last one: a transaction opened there would swallow that record (or leave it aborted),
 *   so they are refused there too. Statements that must commit together belong in a migration of
 *   their own, without `no-transaction`.
 * - in a transactional migration, RELEASE / ROLLBACK TO a savepoint the migration did not set
 *   before (SAVEPOINT pairs inside the migration are fine: they stay within its transaction); in a
 *   no-transaction migration every savepoint statement (there is no transaction to hold one).
 * - in a transactional migration, what PostgreSQL refuses inside a transaction block (the callers
 *   of PreventInTransactionBlock): CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY / DATABASE /
 *   SYSTEM, DETACH PARTITION CONCURRENTLY, VACUUM, CLUSTER without a table, CREATE/DROP DATABASE,
 *   ALTER DATABASE … SET TABLESPACE, CREATE/DROP TABLESPACE, ALTER SYSTEM, DISCARD ALL,
 *   CREATE SUBSCRIPTION that creates a slot, ALTER SUBSCRIPTION … REFRESH / … PUBLICATION with refresh,
 *   DROP SUBSCRIPTION, and ALTER TYPE … ADD VALUE on servers older than 12. These go in a
 *   `-- tidemark:no-transaction` migration.
 *
 * Out of reach: what a function or procedure does when called (a CALL of a procedure that commits
 * fails inside the migration's transaction, PostgreSQL refuses it; in a no-transaction migration it
 * commits), and side connections such as dblink.
 */
export interface TransactionCheck {
  file: string;
  migrationId: string;
  transactional: boolean;
  /** server_version_num of the target, when known: only ALTER TYPE … ADD VALUE depends on it. */
  serverVersionNum?: number;
}

const NO_TRANSACTION_HINT = 'Put it in a migration of its own whose first line is `-- tidemark:no-transaction`; nothing was applied.';

function label(statement: SqlStatement): string {
  const words = statement.text.replace(/\s+/g, ' ');
  return escapeControl(words.length > 60 ? `${words.slice(0, 57)}…` : words);
}

/** A DefElem's value as a boolean, PostgreSQL's way (no argument means true). */
function defBool(options: unknown, name: string, fallback: boolean): boolean {
  if (!Array.isArray(options)) return fallback;
  for (const o of options as { DefElem?: { defname?: string; arg?: Record<string, Record<string, unknown>> } }[]) {
    const d = o.DefElem;
    if (!d || d.defname?.toLowerCase() !== name) continue;
    if (!d.arg) return true;
    // `off` and `on` arrive as a type name, `false` as a string, `0` as an integer.
    const typeName = (d.arg.TypeName?.names as { String?: { sval?: string } }[] | undefined)?.[0]?.String?.sval;
    const v = d.arg.String?.sval ?? typeName ?? d.arg.Boolean?.boolval ?? d.arg.Integer?.ival ?? d.arg.A_Const;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    if (typeof v === 'string') return !['false', 'off', 'no', '0', 'f', 'n'].includes(v.toLowerCase());
    return true;
  }
  return fallback;
}

const hasDef = (options: unknown, name: string) => Array.isArray(options) && (options as { DefElem?: { defname?: string } }[]).some((o) => o.DefElem?.defname?.toLowerCase() === name);

/** Why PostgreSQL would refuse this statement inside a transaction block, or undefined. */
export function refusedInTransactionBlock(node: StatementNode, serverVersionNum?: number): string | undefined {
  const [type] = Object.keys(node);
  const s = (node[type] ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'IndexStmt':
      return s.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return s.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      if (defBool(s.params, 'concurrently', false)) return 'REINDEX CONCURRENTLY';
      if (s.kind === 'REINDEX_OBJECT_DATABASE') return 'REINDEX DATABASE';
      if (s.kind === 'REINDEX_OBJECT_SYSTEM') return 'REINDEX SYSTEM';
      return undefined;
    case 'AlterTableStmt': {
      const cmds = (s.cmds ?? []) as { AlterTableCmd?: { subtype?: string; def?: { PartitionCmd?: { concurrent?: boolean } } } }[];
      return cmds.some((c) => c.AlterTableCmd?.subtype === 'AT_DetachPartition' && c.AlterTableCmd.def?.PartitionCmd?.concurrent) ? 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY' : undefined;
    }
    case 'VacuumStmt':
      return s.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'ClusterStmt':
      return s.relation ? undefined : 'CLUSTER without a table';
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterDatabaseStmt':
      return hasDef(s.options, 'tablespace') ? 'ALTER DATABASE … SET TABLESPACE' : undefined;
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'DiscardStmt':
      return s.target === 'DISCARD_ALL' ? 'DISCARD ALL' : undefined;
    case 'CreateSubscriptionStmt': {
      const connect = defBool(s.options, 'connect', true);
      return connect && defBool(s.options, 'create_slot', connect) ? 'CREATE SUBSCRIPTION that creates a replication slot' : undefined;
    }
    case 'AlterSubscriptionStmt':
      if (s.kind === 'ALTER_SUBSCRIPTION_REFRESH') return 'ALTER SUBSCRIPTION … REFRESH PUBLICATION';
      if (typeof s.kind === 'string' && s.kind.endsWith('_PUBLICATION') && defBool(s.options, 'refresh', true)) return 'ALTER SUBSCRIPTION … PUBLICATION with refresh';
      return undefined;
    case 'DropSubscriptionStmt':
      return 'DROP SUBSCRIPTION (of a subscription with a replication slot)';
    case 'AlterEnumStmt':
      return s.newVal !== undefined && s.oldVal === undefined && serverVersionNum !== undefined && serverVersionNum < 120000 ? 'ALTER TYPE … ADD VALUE (before PostgreSQL 12)' : undefined;
    default:
      return undefined;
  }
}

/**
 * A checker for one migration's statements, in file order: throws a TidemarkError (kind input, exit 2,
 * file:line) for the first statement that breaks the migration's transaction.
 */
export function transactionChecker(check: TransactionCheck): (node: StatementNode, statement: SqlStatement) => void {
  const savepoints: string[] = [];
  const refuse = (code: 'transaction-control' | 'not-in-transaction', statement: SqlStatement, why: string, hint: string) => {
    throw new TidemarkError(code, `${check.file}:${statement.line}: ${check.migrationId}: \`${label(statement)}\` ${why}.`, {
      kind: 'input',
      file: check.file,
      line: statement.line,
      migration: check.migrationId,
      hint,
    });
  };
  return (node, statement) => {
    const t = node.TransactionStmt as { kind?: string; savepoint_name?: string } | undefined;
    if (t) {
      const kind = t.kind ?? '';
      const name = t.savepoint_name ?? '';
      if (kind === 'TRANS_STMT_SAVEPOINT' || kind === 'TRANS_STMT_RELEASE' || kind === 'TRANS_STMT_ROLLBACK_TO') {
        if (!check.transactional) {
          refuse(
            'transaction-control',
            statement,
            'needs a transaction, and a no-transaction migration has none',
            'Remove it, or drop `-- tidemark:no-transaction` so the migration runs in one transaction; nothing was applied.',
          );
        }
        if (kind === 'TRANS_STMT_SAVEPOINT') {
          savepoints.push(name);
          return;
        }
        const at = savepoints.lastIndexOf(name);
        if (at === -1) {
          refuse('transaction-control', statement, `names a savepoint this migration did not set before it`, 'A migration may only release or roll back to its own savepoints; nothing was applied.');
        }
        savepoints.length = kind === 'TRANS_STMT_RELEASE' ? at : at + 1;
        return;
      }
      if (check.transactional) {
        refuse(
          'transaction-control',
          statement,
          "would end or escape the migration's transaction (tidemark runs each migration in one transaction and commits it with its ledger row)",
          'Remove it: the migration commits as a whole, or not at all. Statements that must commit separately belong in separate migrations; nothing was applied.',
        );
      }
      refuse(
        'transaction-control',
        statement,
        'controls a transaction inside a no-transaction migration, whose statements each commit on their own before tidemark records the outcome',
        'Remove it; put statements that must commit together in a migration of their own, without `-- tidemark:no-transaction`; nothing was applied.',
      );
    }
    if (!check.transactional) return;
    const refused = refusedInTransactionBlock(node, check.serverVersionNum);
    if (refused) refuse('not-in-transaction', statement, `cannot run inside a transaction block (${refused})`, NO_TRANSACTION_HINT);
  };
}
