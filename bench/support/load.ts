import autocannon from "autocannon";

export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** 2xx responses of the measured run. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytesPerSecond: number;
  /** 2xx responses of the discarded warm-up run. */
  warmupRequests: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Called right before and right after the measured run (not the warm-up). */
  around?: { before(): void; after(): void };
}

function run(url: string, headers: Record<string, string>, connections: number, duration: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, connections, duration }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** A discarded warm-up run, then the measured one. */
export async function measure(opts: LoadOptions): Promise<LoadFigures> {
  const warm = opts.warmupSeconds > 0 ? await run(opts.url, opts.headers ?? {}, opts.connections, opts.warmupSeconds) : undefined;
  opts.around?.before();
  const r = await run(opts.url, opts.headers ?? {}, opts.connections, opts.durationSeconds);
  opts.around?.after();
  return {
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bytesPerSecond: r.throughput.average,
    warmupRequests: warm ? warm["2xx"] : 0,
  };
}
