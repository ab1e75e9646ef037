// The bus every invalidation transport implements (bus.ts picks one for the deployment).
export interface InvalidationBus {
  /** What carries the messages (for logs and /readyz): `redis`, `postgres` or `process`. */
  readonly kind: 'redis' | 'postgres' | 'process';
  /** Tells every instance. Rejects when the message could not be sent. */
  publish(): Promise<void>;
  /** Called on every message, from any instance, and whenever the bus becomes live again. */
  onInvalidate(listener: () => void): void;
  /** Whether messages from other instances reach this one now. */
  live(): boolean;
  close(): Promise<void>;
}
