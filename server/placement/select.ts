/**
 * The k-th smallest value (k from 1) in O(length) expected time, by quickselect with a
 * median-of-three pivot. Reorders `values` in place; pass a copy if order matters.
 */
export function kthSmallest(values: Float64Array, k: number): number {
  if (k < 1 || k > values.length) throw new RangeError(`k must be within 1..${values.length}, got ${k}`);
  const target = k - 1;
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const pivot = medianOfThree(values[lo]!, values[mid]!, values[hi]!);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    // Now [lo..j] ≤ pivot ≤ [i..hi]; anything strictly between equals the pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return pivot;
  }
  return values[target]!;
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
