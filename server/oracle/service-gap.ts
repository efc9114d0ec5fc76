/**
 * How long a serving VM's move left its users without it (thesis §4.2): from the end of
 * its drain (the last request served at the source) to the end of its bind (the first
 * that can be served at the target), read from the operation's step timings. null until
 * both are done, and for operations that do not drain and bind (nothing served before or
 * after). Pure.
 */
export interface ServiceGap {
  ms: number;
  from: Date;
  to: Date;
}

interface TimedStep {
  name: string;
  state: string;
  finishedAt: Date | string | null;
}

export function serviceGap(steps: readonly TimedStep[]): ServiceGap | null {
  const done = (name: string) => {
    const s = steps.find((x) => x.name === name && x.state === "DONE");
    return s?.finishedAt ? new Date(s.finishedAt) : null;
  };
  const from = done("drain");
  const to = done("bind");
  if (!from || !to || to < from) return null;
  return { ms: to.getTime() - from.getTime(), from, to };
}
