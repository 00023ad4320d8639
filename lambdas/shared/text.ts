/** Text helpers shared by the runtime (no SDK imports). */

/** `text` if at most `max` characters (UTF-16 code units), else its first `max - 1` and `…`. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
