// The per-request queries (a key lookup, a task insert, read and update) are built with Kysely
// once, when the store is created, and run from their SQL text afterwards. Building a query per
// request (operation-node trees, freezing, compiling) cost about as much as running it (the
// bench's profile: Kysely ~8% of a createTask). The builder stays the one place the SQL is
// written; this only moves the work from every request to start-up.
//
//   const getTask = prepareQuery<{ taskId: string }>((p) =>
//     db.selectFrom('tasks').selectAll().where('task_id', '=', p('taskId')));
//   runner.all(getTask, { taskId })
//
// Named parameters are passed to the builder as sentinel values; the compiled query's parameter
// list tells where each one went (a parameter may appear several times, constants stay put).
import type { Compilable } from 'kysely';

const SENTINEL = '\u0000lxg-param:';

type Slot = { name: string } | { value: unknown };

export interface PreparedQuery<P> {
  readonly sql: string;
  /** The positional parameters for these values. */
  parameters(values: P): unknown[];
}

/** Builds the query once, with placeholders for the named parameters. */
export function prepareQuery<P extends object>(build: (param: <K extends keyof P & string>(name: K) => P[K]) => Compilable): PreparedQuery<P> {
  const compiled = build((name) => `${SENTINEL}${name}` as never).compile();
  const slots: Slot[] = compiled.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(SENTINEL) ? { name: value.slice(SENTINEL.length) } : { value },
  );
  const sql = compiled.sql;
  return {
    sql,
    parameters: (values) => slots.map((slot) => ('name' in slot ? ((values as Record<string, unknown>)[slot.name] ?? null) : slot.value)),
  };
}

/** Runs prepared queries; each dialect brings its own (sqlite-runner.ts, postgres-runner.ts). */
export interface QueryRunner {
  /** The rows of a query (a select, or a write with `returning`). */
  all<R>(query: PreparedQuery<never>, parameters: unknown[]): Promise<R[]>;
  /** A write; resolves to the number of rows it changed. */
  run(query: PreparedQuery<never>, parameters: unknown[]): Promise<number>;
  /**
   * An insert of one row, which the runner may commit together with others of the same text
   * (group commit); resolves once this row has committed, rejects when it alone was refused.
   */
  insert(query: PreparedQuery<never>, parameters: unknown[]): Promise<void>;
  /**
   * An insert of (at most) one row with `returning` one generated number (an event's seq);
   * undefined when it inserted none. A write, so on SQLite it rides the group commit like `run`
   * instead of committing alone as a read would.
   */
  insertReturning(query: PreparedQuery<never>, parameters: unknown[]): Promise<number | undefined>;
  /**
   * A write and, when it changed a row, a second one, atomically: both or neither. (A task's
   * final state and the callback that announces it.)
   */
  runThen(first: Write, then: Write): Promise<number>;
}

export type Write = readonly [query: PreparedQuery<never>, parameters: unknown[]];
