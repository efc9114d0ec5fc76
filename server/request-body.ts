/** A request body over its cap (declared, or counted as it arrived). */
export class BodyTooLarge extends Error {}

/**
 * The request's body, refusing more than `limit` bytes whatever Content-Length claims (a
 * chunked body has none): reading stops at the first byte over the cap.
 */
export async function readCapped(req: Request, limit: number): Promise<Buffer> {
  if (Number(req.headers.get("content-length") ?? "0") > limit) throw new BodyTooLarge();
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
