/** One judged case: what a check should have said, and what it said. */
export interface ClassificationPair {
  readonly expected: boolean;
  readonly actual: boolean;
}

export interface FScore {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly true_positives: number;
  readonly false_positives: number;
  readonly false_negatives: number;
  readonly true_negatives: number;
}

/**
 * Precision, recall and F1 of a binary classifier (a verifier, a guardrail, a router).
 * Follows the Union Square ADR's FScoreCalculator: every ratio whose denominator is zero
 * is 0, never NaN, so an empty or all-negative sample still yields a printable, storable
 * score instead of poisoning averages and JSON.
 */
export function fScore(pairs: Iterable<ClassificationPair>): FScore {
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  let trueNegatives = 0;
  for (const { expected, actual } of pairs) {
    if (expected && actual) truePositives += 1;
    else if (!expected && actual) falsePositives += 1;
    else if (expected && !actual) falseNegatives += 1;
    else trueNegatives += 1;
  }
  const precision = ratio(truePositives, truePositives + falsePositives);
  const recall = ratio(truePositives, truePositives + falseNegatives);
  return {
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    true_positives: truePositives,
    false_positives: falsePositives,
    false_negatives: falseNegatives,
    true_negatives: trueNegatives,
  };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}
