/**
 * Settings for the AWS SDK clients the runtime creates itself (a client passed in by the caller is
 * used as given).
 *
 * `cacheMiddleware`: the SDK resolves a command's middleware stack once per command class instead
 * of on every call. The consumer makes two or more DynamoDB calls per job, and resolving the stack
 * was a measurable share of its CPU per call (`npm run bench`, part 1, shows the difference). The
 * SDK's caveat: middleware added to the client after its first request is not picked up, and the
 * runtime adds none.
 */
export const SDK_CLIENT_DEFAULTS = { cacheMiddleware: true } as const;
