/**
 * config/services.ts, the service graph: the required-services closure, requirement order and cycles,
 * including graphs that are not valid configs (cycles, unknown names), which must still terminate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCycles, requirementOrder, withDependentServices, withRequiredServices, type ServiceGraph } from '../../src/config/services.js';

function graph(spec: Record<string, string[] | { requires: string[]; format: 'tidemark' | 'alembic' }>): ServiceGraph {
  return {
    services: Object.entries(spec).map(([name, v]) => (Array.isArray(v) ? { name, requires: v, format: 'tidemark' as const } : { name, ...v })),
  };
}

function edges(spec: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(spec));
}

describe('withDependentServices', () => {
  const ws = graph({ report: ['budget', 'user'], budget: ['user'], user: [], audit: [], mail: ['audit'] });

  it('adds every service requiring the named ones (transitively) and what those require', () => {
    assert.deepEqual(withDependentServices(ws, ['user']), ['user', 'report', 'budget']);
    assert.deepEqual(withDependentServices(ws, ['budget']), ['budget', 'user', 'report']);
    assert.deepEqual(withDependentServices(ws, ['report']), ['report', 'budget', 'user']);
    assert.deepEqual(withDependentServices(ws, ['audit']), ['audit', 'mail']);
  });
});

describe('withRequiredServices', () => {
  const ws = graph({ report: ['budget', 'user'], budget: ['user'], user: [], audit: [] });

  it('adds what the named services require, transitively, each once', () => {
    assert.deepEqual(withRequiredServices(ws, ['report']), ['report', 'budget', 'user']);
    assert.deepEqual(withRequiredServices(ws, ['budget', 'report']), ['budget', 'user', 'report']);
    assert.deepEqual(withRequiredServices(ws, ['audit']), ['audit']);
    assert.deepEqual(withRequiredServices(ws, []), []);
  });

  it('stops at an Alembic service and drops unknown names', () => {
    const mixed = graph({ app: ['legacy', 'ghost'], legacy: { requires: ['base'], format: 'alembic' }, base: [] });
    assert.deepEqual(withRequiredServices(mixed, ['app']), ['app']);
    assert.deepEqual(withRequiredServices(mixed, ['legacy', 'nope']), []);
  });

  it('terminates on a cycle (validation reports it; callers must not hang first)', () => {
    const cyclic = graph({ a: ['b'], b: ['c'], c: ['a'] });
    assert.deepEqual(withRequiredServices(cyclic, ['b']), ['b', 'c', 'a']);
  });
});

describe('requirementOrder', () => {
  const ws = graph({ report: ['budget', 'user'], budget: ['user'], user: [], audit: [] });

  it('puts a required service before the one requiring it, whatever order they are asked in', () => {
    assert.deepEqual(requirementOrder(ws, ['user', 'report', 'budget']), ['user', 'budget', 'report']);
    assert.deepEqual(requirementOrder(ws, ['report', 'budget', 'user']), ['user', 'budget', 'report']);
  });

  it('keeps only the services asked for, and unrelated ones in declaration order', () => {
    assert.deepEqual(requirementOrder(ws, ['report', 'user']), ['user', 'report']);
    assert.deepEqual(requirementOrder(ws, ['audit', 'report']), ['report', 'audit']);
    assert.deepEqual(requirementOrder(ws, ['ghost']), []);
  });

  it('terminates on a cycle and lists each service once', () => {
    const cyclic = graph({ a: ['b'], b: ['a'] });
    assert.deepEqual(requirementOrder(cyclic, ['a', 'b']), ['b', 'a']);
  });
});

describe('findCycles', () => {
  it('finds none in a chain or a diamond', () => {
    assert.deepEqual(findCycles(['a', 'b', 'c'], edges({ a: ['b'], b: ['c'], c: [] })), []);
    assert.deepEqual(findCycles(['top', 'l', 'r', 'base'], edges({ top: ['l', 'r', 'base'], l: ['base'], r: ['base'], base: [] })), []);
    assert.deepEqual(findCycles([], edges({})), []);
  });

  it('reports a cycle once, starting where it was entered, the first node repeated at the end', () => {
    // d enters the cycle a → b → c → a from outside; it is still one cycle.
    const e = edges({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] });
    assert.deepEqual(findCycles(['a', 'b', 'c', 'd'], e), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(findCycles(['d', 'c', 'b', 'a'], e), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(findCycles(['c', 'a'], e), [['c', 'a', 'b', 'c']]);
  });

  it('reports two cycles through one shared service separately, and a self-loop', () => {
    const e = edges({ hub: ['x', 'y'], x: ['hub'], y: ['hub'] });
    assert.deepEqual(findCycles(['hub', 'x', 'y'], e), [
      ['hub', 'x', 'hub'],
      ['hub', 'y', 'hub'],
    ]);
    assert.deepEqual(findCycles(['s'], edges({ s: ['s'] })), [['s', 's']]);
  });

  it('follows edges to services missing from the names list', () => {
    assert.deepEqual(findCycles(['a'], edges({ a: ['b'], b: ['a'] })), [['a', 'b', 'a']]);
  });
});
