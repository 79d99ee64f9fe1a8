import { describe, expect, it } from 'vitest';
import { fScore } from '../../src/stats/fscore.js';

function pairs(counts: { tp: number; fp: number; fn: number; tn: number }): { expected: boolean; actual: boolean }[] {
  return [
    ...Array.from({ length: counts.tp }, () => ({ expected: true, actual: true })),
    ...Array.from({ length: counts.fp }, () => ({ expected: false, actual: true })),
    ...Array.from({ length: counts.fn }, () => ({ expected: true, actual: false })),
    ...Array.from({ length: counts.tn }, () => ({ expected: false, actual: false })),
  ];
}

describe('fScore', () => {
  it('computes precision, recall and F1 from the confusion counts', () => {
    // precision 3 / (3 + 1) = 0.75, recall 3 / (3 + 2) = 0.6, F1 = 2 * 0.45 / 1.35 = 2/3.
    const score = fScore(pairs({ tp: 3, fp: 1, fn: 2, tn: 4 }));
    expect(score).toMatchObject({ true_positives: 3, false_positives: 1, false_negatives: 2, true_negatives: 4 });
    expect(score.precision).toBe(0.75);
    expect(score.recall).toBe(0.6);
    expect(score.f1).toBeCloseTo(2 / 3, 12);
  });

  it('gives 1 for a perfect classifier', () => {
    expect(fScore(pairs({ tp: 5, fp: 0, fn: 0, tn: 5 }))).toMatchObject({ precision: 1, recall: 1, f1: 1 });
  });

  it('gives 0 everywhere, not NaN, for no pairs at all', () => {
    expect(fScore([])).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
      true_positives: 0,
      false_positives: 0,
      false_negatives: 0,
      true_negatives: 0,
    });
  });

  it('gives 0 precision and F1 when nothing was predicted positive', () => {
    expect(fScore(pairs({ tp: 0, fp: 0, fn: 4, tn: 3 }))).toMatchObject({ precision: 0, recall: 0, f1: 0, false_negatives: 4 });
  });

  it('gives 0 recall and F1 when nothing was expected positive, but still counts true negatives', () => {
    expect(fScore(pairs({ tp: 0, fp: 2, fn: 0, tn: 6 }))).toMatchObject({ precision: 0, recall: 0, f1: 0, true_negatives: 6 });
  });

  it('accepts any iterable, such as a generator', () => {
    function* judged(): Generator<{ expected: boolean; actual: boolean }> {
      yield { expected: true, actual: true };
      yield { expected: true, actual: false };
    }
    expect(fScore(judged())).toMatchObject({ precision: 1, recall: 0.5 });
  });
});
