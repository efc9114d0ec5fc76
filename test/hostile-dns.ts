/**
 * A hostile query for tests: `count` questions whose labels are bytes that are not UTF-8
 * (0xff). Decoded, each byte becomes U+FFFD (three bytes when encoded again), so echoing
 * the questions would make a reply three times the query's size.
 */
export function manyInvalidQuestions(id: number, count: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // a query, recursion desired
  header.writeUInt16BE(count, 4);
  const question = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0xff), Buffer.from([0, 0, 1, 0, 1])]);
  return Buffer.concat([header, ...Array.from({ length: count }, () => question)]);
}
