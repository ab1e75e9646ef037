// `--input` is either JSON on the command line or `@path` to a JSON file. Either way a mistake is
// a usage error (exit 2) found before any request is sent.
import { readFile } from 'node:fs/promises';
import { usageError } from './exit.js';

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

export async function readJsonInput(value: string): Promise<unknown> {
  if (value.startsWith('@')) {
    const path = value.slice(1);
    if (!path) throw usageError('--input @ needs a file path, e.g. --input @input.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
      throw usageError(`--input @${path}: cannot read the file (${why})`);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw usageError(`--input @${path} is not JSON: ${firstLine((error as Error).message)}`);
    }
  }
  try {
    return JSON.parse(value);
  } catch (error) {
    // The usual cause is the shell eating the quotes, hence the hint.
    throw usageError(`--input is not JSON: ${firstLine((error as Error).message)} (quote it: --input '{"prompt":"…"}')`);
  }
}
