/**
 * Errors the construct library throws at synth time.
 *
 * Every message names the prop, the allowed range and the value given, so a failed `cdk synth`
 * says what to change without reading the source.
 */
export class JobQueueConfigError extends Error {
  /** Path of the offending prop, e.g. `lanes[1].weight`. */
  public readonly prop: string;

  constructor(prop: string, allowed: string, given: unknown, options?: ErrorOptions) {
    super(`${prop} must be ${allowed}; got ${formatValue(given)}`, options);
    this.name = 'JobQueueConfigError';
    this.prop = prop;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
