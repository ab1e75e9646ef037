// The summary line must say what vitest says: the same counts as vitest's own "Tests" line (a
// file whose beforeAll failed, or that failed to load, used to add a failure vitest did not
// count), then, on the same line, what failed outside any test and what was skipped for a
// missing service, once, with the command that installs it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathWithoutServices, runFixtures, summaryOf, vitestTestsLine, type ChildRun } from './run-vitest.js';

const FIXTURES = ['counts.fixture.ts', 'hook-fails.fixture.ts', 'load-fails.fixture.ts'];
let bare: string;
let withRedis: ChildRun;
let withoutRedis: ChildRun;

beforeAll(async () => {
  bare = await pathWithoutServices();
  [withRedis, withoutRedis] = await Promise.all([runFixtures(FIXTURES), runFixtures(FIXTURES, { PATH: bare })]);
});
afterAll(() => rm(bare, { recursive: true, force: true }));

describe('the summary line', () => {
  it("agrees with vitest's own count", () => {
    for (const run of [withRedis, withoutRedis]) {
      const vitest = vitestTestsLine(run.output);
      const ours = summaryOf(run.output);
      const [, passed, failed, skipped] = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(ours)!;
      expect({ passed: Number(passed), failed: Number(failed), skipped: Number(skipped) }).toEqual({
        passed: vitest.passed ?? 0,
        failed: vitest.failed ?? 0,
        skipped: vitest.skipped ?? 0,
      });
      expect(ours).toContain(`, ${vitest.todo} todo, ${vitest['expected fail']} expected fail;`);
      expect(run.code).toBe(1);
    }
    expect(vitestTestsLine(withRedis.output)).toMatchObject({ failed: 1, passed: 4, skipped: 4 });
  });

  it('names the files that failed outside any test', () => {
    expect(summaryOf(withRedis.output)).toContain(
      '2 files failed outside any test (test/infra/fixtures/hook-fails.fixture.ts, test/infra/fixtures/load-fails.fixture.ts)',
    );
  });

  it('says once which tests were skipped for a missing redis-server, and how to install it', () => {
    const line = summaryOf(withoutRedis.output);
    expect(line).toMatch(/; 2 skipped because redis-server is not installed \(test\/infra\/fixtures\/counts\.fixture\.ts\): apt-get install redis-server$/);
    expect(withoutRedis.output.match(/apt-get install redis-server/g)).toHaveLength(1);
    expect(summaryOf(withRedis.output)).not.toContain('redis-server');
  });
});

describe('with coverage on', () => {
  let reports: string;
  let covered: ChildRun;
  beforeAll(async () => {
    reports = await mkdtemp(join(tmpdir(), 'lxg-coverage-'));
    const coverage = [
      '--coverage.enabled',
      '--coverage.provider=v8',
      '--coverage.reporter=text-summary',
      '--coverage.reportOnFailure',
      `--coverage.reportsDirectory=${reports}`,
    ];
    covered = await runFixtures(['counts.fixture.ts'], {}, coverage);
  });
  afterAll(() => rm(reports, { recursive: true, force: true }));

  it('prints the coverage summary, and the summary line still ends the run', () => {
    expect(covered.output).toContain('Coverage summary');
    const lines = covered.output.split('\n').filter((l) => l.trim() !== '');
    expect(lines.at(-1)).toBe(summaryOf(covered.output));
    expect(covered.output.indexOf('Coverage summary')).toBeLessThan(covered.output.indexOf(summaryOf(covered.output)));
  });
});
