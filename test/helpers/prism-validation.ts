// Asks Prism itself, in process, which violations a request has. The running Prism server reports
// the same list in its `sl-violations` header, but caps the header at 8 KiB; Prism ignores
// `discriminator`, so a body is checked against all 12 branches and the list can be longer than
// that. The in-process call returns the whole list from the same validator.
import { createLogger } from '@stoplight/prism-core';
import { createInstance, getHttpOperationsFromSpec } from '@stoplight/prism-http';
import { liangxinSpecPath } from '../../src/spec/files.js';

export interface PrismViolation {
  /** e.g. ['body', 'input', 'aspect_ratio'] */
  path: string[];
  code: string;
  message: string;
}

export async function createPrismValidator(specPath = liangxinSpecPath) {
  const operations = await getHttpOperationsFromSpec(specPath);
  const prism = createInstance(
    {
      mock: { dynamic: false },
      validateRequest: true,
      validateResponse: false,
      checkSecurity: true,
      errors: false,
      isProxy: false,
      upstreamProxy: undefined,
    },
    { logger: createLogger('TEST', { level: 'silent' }) },
  );

  return async function violations(request: {
    method: 'get' | 'post';
    path: string;
    query?: Record<string, string>;
    body?: unknown;
  }): Promise<PrismViolation[]> {
    const result = await prism.request(
      {
        method: request.method,
        url: { path: request.path, query: request.query ?? {} },
        headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
        body: request.body,
      },
      operations,
    )();
    if (result._tag === 'Left') throw result.left;
    return result.right.validations.input.map((v) => ({ path: (v.path ?? []).map(String), code: String(v.code), message: v.message }));
  };
}
