/** A tiny UpdateItem builder: every attribute goes through `#name` (status, type, result are reserved words). */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export class Update {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};

  /** `SET #name = :name`, or a raw right-hand side using `#name`/`:name` placeholders. */
  set(name: string, value: AttributeValue | undefined, rhs?: string): this {
    if (value === undefined) return this;
    this.names[`#${name}`] = name;
    this.values[`:${name}`] = value;
    this.sets.push(`#${name} = ${rhs ?? `:${name}`}`);
    return this;
  }

  /** `SET #name = :other`: the value another `set` of this update registered (one value sent once). */
  setSameAs(name: string, other: string): this {
    if (this.values[`:${other}`] === undefined) throw new Error(`no value :${other} to reuse for ${name}`);
    this.names[`#${name}`] = name;
    this.sets.push(`#${name} = :${other}`);
    return this;
  }

  /** `SET #name = :name` only where the item has no `name` yet (keeps the first value). */
  setIfAbsent(name: string, value: AttributeValue | undefined): this {
    return this.set(name, value, `if_not_exists(#${name}, :${name})`);
  }

  /** `SET #name = #name + by`, counting from 0 where the item has no `name` yet. */
  increment(name: string, by: number): this {
    this.values[':zero'] = { N: '0' };
    return this.set(name, { N: String(by) }, `if_not_exists(#${name}, :zero) + :${name}`);
  }

  remove(...names: string[]): this {
    for (const name of names) {
      this.names[`#${name}`] = name;
      this.removes.push(`#${name}`);
    }
    return this;
  }

  /** Register a name / value used only in the condition. */
  name(name: string): this {
    this.names[`#${name}`] = name;
    return this;
  }

  value(placeholder: string, value: AttributeValue): this {
    this.values[placeholder] = value;
    return this;
  }

  /** True when the update writes `name`. */
  writes(name: string): boolean {
    return this.names[`#${name}`] === name && this.sets.some((part) => part.startsWith(`#${name} =`));
  }

  expression(): string {
    const parts = [];
    if (this.sets.length > 0) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length > 0) parts.push(`REMOVE ${this.removes.join(', ')}`);
    return parts.join(' ');
  }
}

export const S = (value: string | undefined): AttributeValue | undefined =>
  value === undefined ? undefined : { S: value };
export const N = (value: number | undefined): AttributeValue | undefined =>
  value === undefined ? undefined : { N: String(value) };

/** The expression parts of an UpdateItem (or PutItem / DeleteItem) request. */
export interface ExpressionRequest {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

const NAME_PLACEHOLDER = /#[A-Za-z0-9_]+/g;

/**
 * The same request with its attribute-name placeholders shortened to `#0`, `#1`, ...: the readable
 * ones (`#leaseOwner`, `#outcomeWriteId`) cost bytes on every hot-path write (each appears in the
 * name map and in the expressions) and DynamoDB's time to parse them. Tokens not in the map are
 * left alone; the attribute names and the value placeholders are unchanged.
 */
export function compactPlaceholders<T extends ExpressionRequest>(request: T): T {
  const names = request.ExpressionAttributeNames;
  if (names === undefined) return request;
  const renamed = new Map<string, string>();
  const shortNames: Record<string, string> = {};
  for (const [placeholder, name] of Object.entries(names)) {
    const short = `#${renamed.size}`;
    renamed.set(placeholder, short);
    shortNames[short] = name;
  }
  const rewrite = (expression: string | undefined) =>
    expression?.replace(NAME_PLACEHOLDER, (token) => renamed.get(token) ?? token);
  return {
    ...request,
    ...(request.UpdateExpression === undefined
      ? {}
      : { UpdateExpression: rewrite(request.UpdateExpression) }),
    ...(request.ConditionExpression === undefined
      ? {}
      : { ConditionExpression: rewrite(request.ConditionExpression) }),
    ExpressionAttributeNames: shortNames,
  };
}
