/** The chaos plan: how many jobs of each kind, and the shape every planned job must keep. */
import { describe, expect, it } from 'vitest';
import {
  CHAOS_KINDS,
  type ChaosKind,
  countsByKind,
  DEAD_KINDS,
  DEFAULT_MIX,
  FIFO_LANE,
  LONG_DELAY_SECONDS,
  type PlannedJob,
  planJobs,
  STANDARD_LANES,
} from '../../../bench/chaos/plan';

const sum = (counts: Record<ChaosKind, number>) => CHAOS_KINDS.reduce((total, k) => total + counts[k], 0);

describe('countsByKind', () => {
  it.each([10, 11, 250, 10_000, 12_345])('splits %i jobs exactly, at least one per kind', (total) => {
    // Act
    const counts = countsByKind(total, DEFAULT_MIX);

    // Assess
    expect(Object.keys(counts).sort()).toEqual([...CHAOS_KINDS].sort());
    expect(sum(counts)).toBe(total);
    for (const kind of CHAOS_KINDS) expect(counts[kind]).toBeGreaterThanOrEqual(1);
  });

  it('gives exactly one job per kind for the minimum of ten', () => {
    // Act
    const counts = countsByKind(10, DEFAULT_MIX);

    // Assess
    for (const kind of CHAOS_KINDS) expect(counts[kind]).toBe(1);
  });

  it('splits 10,000 jobs in proportion to DEFAULT_MIX (largest remainder, plus one each)', () => {
    // Arrange
    const weight = CHAOS_KINDS.reduce((total, k) => total + DEFAULT_MIX[k], 0);

    // Act
    const counts = countsByKind(10_000, DEFAULT_MIX);

    // Assess
    for (const kind of CHAOS_KINDS) {
      // One each up front, then the other 9,990 by weight.
      const share = 1 + (9_990 * DEFAULT_MIX[kind]) / weight;
      expect(Math.abs(counts[kind] - share)).toBeLessThan(1);
    }
    expect(counts).toEqual({
      succeed: 4675,
      optimistic: 702,
      flaky: 1754,
      poison: 352,
      permanent: 351,
      timeout: 118,
      abort: 235,
      crash: 59,
      duplicate: 585,
      ordered: 1169,
    });
  });

  it('follows a custom mix', () => {
    // Arrange
    const mix = Object.fromEntries(CHAOS_KINDS.map((k) => [k, k === 'succeed' ? 1 : 0])) as Record<
      ChaosKind,
      number
    >;

    // Act
    const counts = countsByKind(100, mix);

    // Assess
    expect(counts.succeed).toBe(91);
    for (const kind of CHAOS_KINDS.filter((k) => k !== 'succeed')) expect(counts[kind]).toBe(1);
  });

  it.each([
    [9, 'got 9'],
    [0, 'got 0'],
    [-5, 'got -5'],
    [250.5, 'got 250.5'],
    [Number.NaN, 'got NaN'],
  ])('rejects %s jobs with a RangeError naming the value', (total, named) => {
    // Act
    const act = () => countsByKind(total, DEFAULT_MIX);

    // Assess
    expect(act).toThrow(RangeError);
    expect(act).toThrow(named);
    expect(act).toThrow('jobs must be an integer of at least 10');
  });
});

describe('planJobs', () => {
  it('is deterministic for a seed', () => {
    // Act
    const a = planJobs({ jobs: 500, run: 'r', seed: 42 });
    const b = planJobs({ jobs: 500, run: 'r', seed: 42 });

    // Assess
    expect(a).toEqual(b);
  });

  it('defaults the seed to 1', () => {
    // Act
    const implicit = planJobs({ jobs: 300, run: 'r' });
    const explicit = planJobs({ jobs: 300, run: 'r', seed: 1 });

    // Assess
    expect(implicit).toEqual(explicit);
  });

  it('differs for another seed, with the same counts per kind', () => {
    // Act
    const a = planJobs({ jobs: 500, run: 'r', seed: 42 });
    const b = planJobs({ jobs: 500, run: 'r', seed: 43 });

    // Assess
    expect(a.map((j) => j.kind)).not.toEqual(b.map((j) => j.kind));
    expect(a.map((j) => j.kind).sort()).toEqual(b.map((j) => j.kind).sort());
  });

  it('throws for fewer jobs than kinds', () => {
    expect(() => planJobs({ jobs: 9, run: 'r' })).toThrow(RangeError);
  });

  describe.each([
    [10_000, 1],
    [10_000, 99],
    [250, 7],
    [250, 3],
  ])('invariants of %i jobs, seed %i', (jobs, seed) => {
    const plan = planJobs({ jobs, run: 'run-x', seed });
    const ordered = plan.filter((j) => j.kind === 'ordered');
    const standard = plan.filter((j) => j.kind !== 'ordered');

    it('has every job once, indexed in order, with the counts of countsByKind', () => {
      expect(plan).toHaveLength(jobs);
      expect(plan.map((j) => j.index)).toEqual(plan.map((_, i) => i));
      const counts = Object.fromEntries(CHAOS_KINDS.map((k) => [k, 0])) as Record<ChaosKind, number>;
      for (const job of plan) counts[job.kind]++;
      expect(counts).toEqual(countsByKind(jobs, DEFAULT_MIX));
      for (const job of plan) {
        expect(job.type).toBe(`chaos-${job.kind}`);
        expect(job.payload.run).toBe('run-x');
      }
    });

    it('sends ordered jobs only on the FIFO lane, grouped, one by one, undelayed, seq 0.. per group', () => {
      expect(ordered.length).toBeGreaterThan(0);
      const seqs = new Map<string, number[]>();
      for (const job of ordered) {
        expect(job.lane).toBe(FIFO_LANE);
        expect(job.groupId).toMatch(/^acct-\d+$/);
        expect(job.delaySeconds).toBe(0);
        expect(job.via).toBe('single');
        expect(job.producerDies).toBe(false);
        seqs.set(job.groupId as string, [
          ...(seqs.get(job.groupId as string) ?? []),
          job.payload.seq as number,
        ]);
      }
      for (const list of seqs.values()) expect(list).toEqual(list.map((_, i) => i));
      // No other kind uses the FIFO lane or a group.
      for (const job of standard) {
        expect(job.lane).not.toBe(FIFO_LANE);
        expect(job.groupId).toBeUndefined();
      }
    });

    it('spreads the standard kinds evenly over the three standard lanes', () => {
      const perLane = STANDARD_LANES.map((lane) => standard.filter((j) => j.lane === lane).length);
      expect(perLane.reduce((a, b) => a + b, 0)).toBe(standard.length);
      expect(Math.max(...perLane) - Math.min(...perLane)).toBeLessThanOrEqual(1);
      for (const n of perLane) expect(n).toBeGreaterThan(0);
    });

    it('lets a producer die only on keyed, single, at most 10 s delayed jobs', () => {
      const dying = plan.filter((j) => j.producerDies);
      expect(dying.length).toBeGreaterThan(0);
      for (const job of dying) {
        expect(job.key).toBeDefined();
        expect(job.via).toBe('single');
        expect(job.delaySeconds).toBeLessThanOrEqual(10);
      }
    });

    it('never delays a duplicate job long (it is resent from its captured body)', () => {
      const long = plan.filter((j) => j.delaySeconds >= LONG_DELAY_SECONDS);
      expect(long.length).toBeGreaterThan(0);
      for (const job of long) {
        expect(job.kind).not.toBe('duplicate');
        expect(job.delaySeconds).toBeLessThan(LONG_DELAY_SECONDS + 2400);
      }
      // Every delay is none, short (1-10 s) or long.
      for (const job of plan) {
        const d = job.delaySeconds;
        expect(d === 0 || (d >= 1 && d <= 10) || d >= LONG_DELAY_SECONDS).toBe(true);
      }
    });

    it('gives unique keys', () => {
      const keys = plan.map((j) => j.key).filter((k): k is string => k !== undefined);
      expect(keys.length).toBeGreaterThan(0);
      expect(new Set(keys).size).toBe(keys.length);
      for (const job of plan.filter((j) => j.key)) expect(job.key).toBe(`run-x:${job.index}`);
    });

    it('expects DEAD exactly for DEAD_KINDS', () => {
      for (const job of plan) expect(job.expect).toBe(DEAD_KINDS.has(job.kind) ? 'DEAD' : 'SUCCEEDED');
      expect(plan.filter((j) => j.expect === 'DEAD').length).toBe(
        plan.filter((j) => j.kind === 'poison' || j.kind === 'permanent').length,
      );
    });

    it('gives flaky jobs 1 or 2 failures', () => {
      for (const job of plan.filter((j) => j.kind === 'flaky'))
        expect([1, 2]).toContain(job.payload.failTimes);
    });
  });

  // The integration test runs this plan and asserts on each of these features: none may depend on luck.
  describe('the integration test plan (250 jobs, seed 7)', () => {
    const plan = planJobs({ jobs: 250, run: 'r', seed: 7 });
    const count = (predicate: (job: PlannedJob) => boolean) => plan.filter(predicate).length;

    it.each(CHAOS_KINDS)('has a %s job', (kind) => {
      expect(count((j) => j.kind === kind)).toBeGreaterThanOrEqual(1);
    });

    it('has every feature', () => {
      expect({
        producerDies: count((j) => j.producerDies) >= 1,
        longDelay: count((j) => j.delaySeconds >= LONG_DELAY_SECONDS) >= 1,
        shortDelay: count((j) => j.delaySeconds >= 1 && j.delaySeconds <= 10) >= 1,
        keyed: count((j) => j.key !== undefined) >= 1,
        unkeyed: count((j) => j.key === undefined) >= 1,
        single: count((j) => j.via === 'single') >= 1,
        batch: count((j) => j.via === 'batch') >= 1,
      }).toEqual({
        producerDies: true,
        longDelay: true,
        shortDelay: true,
        keyed: true,
        unkeyed: true,
        single: true,
        batch: true,
      });
    });

    it('has a batch of standard jobs and an ordered job per FIFO group', () => {
      expect(count((j) => j.via === 'batch' && j.lane !== FIFO_LANE)).toBeGreaterThanOrEqual(2);
      expect(new Set(plan.map((j) => j.groupId).filter(Boolean)).size).toBe(4);
    });
  });
});
