/**
 * Check (e), order independence: `requires` only orders a service after the ones it requires, so any
 * topological order of the services is one some database may have seen (services deployed on their own).
 * Each allowed order (at most MAX_ORDERS, enumerated deterministically in config order) is replayed on the
 * emptied shadow, service after service; every service must end with the same schema in every order.
 */
import { replayMigrations } from '../../apply/replay.js';
import type { ServiceGraph } from '../../config/services.js';
import type { Workspace } from '../../config/types.js';
import type { Database } from '../../db/database.js';
import type { History } from '../../history/migration.js';
import type { TestFinding } from './index.js';
import { differences, type Snapshots, snapshotServices } from './steps.js';

const MAX_ORDERS = 6;

/** Up to `limit` orders of `services` where each comes after the ones it requires, first in config order first. */
export function allowedOrders(workspace: ServiceGraph, services: readonly string[], limit = MAX_ORDERS): string[][] {
  const wanted = workspace.services.filter((s) => services.includes(s.name));
  const out: string[][] = [];
  const visit = (placed: string[]) => {
    if (out.length >= limit) return;
    if (placed.length === wanted.length) {
      out.push(placed);
      return;
    }
    for (const s of wanted) {
      if (placed.includes(s.name)) continue;
      if (s.requires.every((r) => placed.includes(r) || !services.includes(r))) visit([...placed, s.name]);
    }
  };
  visit([]);
  return out;
}

/**
 * Replays `services` in every allowed order on `db`; `empty` resets it between orders. No finding when only
 * one order is allowed (nothing to compare).
 */
export async function checkOrders(workspace: Workspace, histories: readonly History[], services: readonly string[], db: Database, empty: () => Promise<void>): Promise<TestFinding[]> {
  const orders = allowedOrders(workspace, services);
  if (orders.length < 2) return [];
  const findings: TestFinding[] = [];
  let first: { order: string; snapshots: Snapshots } | undefined;
  for (const order of orders) {
    const label = `order ${order.join(', ')}`;
    await empty();
    try {
      for (const service of order) await replayMigrations({ workspace, histories }, [service], db);
    } catch (err) {
      findings.push({ check: 'order', service: order.join(', '), status: 'fail', message: `In the ${label}, ${(err as Error).message.replace(/\.$/, '')}`, hint: (err as { hint?: string }).hint });
      continue;
    }
    const snapshots = await snapshotServices(db, workspace, services);
    if (!first) {
      first = { order: label, snapshots };
      continue;
    }
    for (const service of services) {
      const words = differences(new Map([[service, first.snapshots.get(service)!]]), snapshots, { expected: first.order, actual: label });
      if (words.length === 0) continue;
      findings.push({
        check: 'order',
        service,
        status: 'fail',
        message: `${service} ends with another schema in the ${label} than in the ${first.order}: ${words.map((w) => w.message).join('; ')}`,
        hint: 'A migration depends on another service without `requires`: declare it, so every database applies them in one order.',
      });
    }
  }
  if (findings.length === 0) findings.push({ check: 'order', service: services.join(', '), status: 'pass', message: `${orders.length} orders of ${services.join(', ')} give the same schemas` });
  return findings;
}
