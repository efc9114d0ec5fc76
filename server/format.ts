/** Human-readable units for tables. */
export function formatBytes(value: bigint | number): string {
  let n = typeof value === "bigint" ? Number(value) : value;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n >= 10 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatAge(date: Date | null | undefined, now = Date.now()): string {
  if (!date) return "never";
  const ms = now - date.getTime();
  if (ms < 0) return `in ${formatDuration(-ms)}`;
  return `${formatDuration(ms)} ago`;
}

export function formatDateTime(date: Date): string {
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function titleCase(value: string): string {
  return value.charAt(0) + value.slice(1).toLowerCase().replace(/_/g, " ");
}

/** Ascending whole numbers as ranges: [1, 2, 3, 4, 7, 9, 10] → "1–4, 7, 9–10". */
export function numberRanges(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j === i ? `${values[i]}` : `${values[i]}–${values[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}
