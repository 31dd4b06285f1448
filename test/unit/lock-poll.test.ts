import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LOCK_POLL, pollForLock } from '../../src/db/lock-poll.js';

/** A virtual clock: sleep advances it, nothing really waits. */
function fakeClock(random = () => 0.999) {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    random,
    elapsed: () => t - 1_000_000,
  };
}

describe('pollForLock (waiting for an advisory lock by polling)', () => {
  it('takes the lock on the try it becomes free, backing off between tries', async () => {
    const clock = fakeClock();
    let calls = 0;
    const r = await pollForLock(async () => ++calls === 5, 60_000, clock);
    assert.deepEqual(r, { acquired: true, tries: 5 });
    assert.equal(calls, 5);
    // Doubling from the first delay (jitter at its top here), capped.
    assert.deepEqual(clock.sleeps, [25, 50, 100, 200, 400]);
  });

  it('never sleeps past the cap, and gives up at the deadline without a try after it', async () => {
    const clock = fakeClock();
    let lastTryAt = 0;
    const r = await pollForLock(
      async () => {
        lastTryAt = clock.elapsed();
        return false;
      },
      10_000,
      clock,
    );
    assert.equal(r.acquired, false);
    assert.ok(Math.max(...clock.sleeps) <= LOCK_POLL.maxDelayMs);
    assert.equal(clock.elapsed(), 10_000, 'the timeout is honoured exactly');
    assert.equal(lastTryAt, 10_000, 'a last try is made at the deadline');
    // 6 doubling steps to reach 1 s, then about one try a second.
    assert.ok(r.tries <= 6 + 10 + 1, `${r.tries} tries in 10 s`);
  });

  it('is bounded for any timeout, back-off and jitter', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Bounded so that one run is at most a few thousand tries (a 1 h timeout polled every 1 ms would
        // be 3.6 million awaits per run: minutes of CPU in CI for nothing the smaller cases miss).
        fc.integer({ min: 1, max: 120_000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 50, max: 5_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        async (timeoutMs, firstDelayMs, maxDelayMs, jitter) => {
          const clock = fakeClock(() => jitter);
          const r = await pollForLock(async () => false, timeoutMs, { ...clock, firstDelayMs, maxDelayMs });
          assert.equal(r.acquired, false);
          assert.equal(clock.elapsed(), timeoutMs);
          assert.ok(clock.sleeps.every((ms) => ms >= 1 && ms <= Math.max(maxDelayMs, 1)));
          // Each sleep after the back-off reaches the cap is at least half the cap (jitter 50-100 %).
          const cap = Math.max(firstDelayMs, maxDelayMs);
          const bound = Math.ceil(Math.log2(cap)) + 2 + Math.ceil(timeoutMs / Math.max(1, Math.floor(Math.min(maxDelayMs, cap) / 2)));
          assert.ok(r.tries <= bound, `${r.tries} tries > ${bound}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('passes an error of a try through, and stops polling', async () => {
    const clock = fakeClock();
    let calls = 0;
    await assert.rejects(
      pollForLock(
        async () => {
          if (++calls === 2) throw new Error('connection lost');
          return false;
        },
        60_000,
        clock,
      ),
      /connection lost/,
    );
    assert.equal(calls, 2);
  });

  it('with a zero timeout makes no try at all', async () => {
    const clock = fakeClock();
    const r = await pollForLock(async () => true, 0, clock);
    assert.deepEqual(r, { acquired: false, tries: 0 });
  });
});
