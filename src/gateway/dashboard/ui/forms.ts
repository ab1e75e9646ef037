// What the pages' forms share: an API refusal as a message and the fields it names, and the
// model allow-list as typed (one place, so the tenants list and a tenant's page read it alike).
import { fieldErrors, problem } from './api.js';

export interface Failure {
  message: string;
  fields: string[];
}

export const failureOf = (error: unknown, response: Response): Failure => ({ message: problem(error, response), fields: fieldErrors(error) });

/** "a, b" → ["a", "b"]; empty → undefined (every model). */
export function modelList(text: string): string[] | undefined {
  const models = text.split(/[\s,]+/).filter(Boolean);
  return models.length > 0 ? models : undefined;
}
